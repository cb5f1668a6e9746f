package report

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/toritsugi/toritsugi/pkg/internal/golden"
	"github.com/toritsugi/toritsugi/pkg/store"
)

// month is a small month of two clients and two operators.
func month() []store.CallRecord {
	at := time.Date(2026, 11, 2, 1, 0, 0, 0, time.UTC)
	call := func(id, client string, res store.Result, billable bool, waitS int, op string, talkS int) store.CallRecord {
		r := store.CallRecord{ID: id, ClientID: client, DID: "0312345678", CallerID: "09011112222", Result: res, Billable: billable,
			StartedAt: at, WaitMS: int64(waitS) * 1000, OperatorID: op, EndedAt: at.Add(time.Duration(waitS+talkS) * time.Second)}
		if op != "" {
			r.AnsweredAt = at.Add(time.Duration(waitS) * time.Second)
		}
		return r
	}
	return []store.CallRecord{
		call("c1", "acme", store.ResultAnswered, true, 10, "op1", 120),
		call("c2", "acme", store.ResultAnswered, true, 30, "op2", 60),
		call("c3", "acme", store.ResultAbandoned, true, 45, "", 0),
		call("c4", "acme", store.ResultBlocked, false, 0, "", 0),
		call("c5", "beta", store.ResultAfterHours, false, 0, "", 0),
		call("c6", "beta", store.ResultVoicemail, true, 0, "", 0),
		call("c7", "beta", store.ResultAnswered, true, 5, "op1", 30),
		call("c8", "", store.ResultUnknownDID, false, 0, "", 0),
		call("c9", "beta", store.ResultAbandoned, false, 0, "", 0), // during the greeting
		func() store.CallRecord { // a sales call the operator refused; put through after a 10 s greeting
			r := call("c10", "acme", store.ResultAnswered, false, 3, "op2", 30)
			r.Class = store.ClassSales
			r.BridgedAt = r.AnsweredAt.Add(10 * time.Second)
			return r
		}(),
		call("c11", "beta", store.ResultOverflow, false, 300, "", 0), // waited to max_wait
		call("c12", "beta", store.ResultVoicemail, true, 300, "", 0), // the same, then left a message
		call("c13", "acme", store.ResultFailed, false, 90, "", 0),    // failed after waiting 90 s: offered, not in time
		call("c14", "acme", store.ResultFailed, false, 0, "", 0),     // failed before the queue: not offered
	}
}

func TestMonth(t *testing.T) {
	clients, ops := Month(month())
	want := []Client{
		{ClientID: "acme", Calls: 7, Billable: 3, NonBillable: 4, Sales: 1, Answered: 3, AnsweredInTime: 2, Abandoned: 1, AbandonedInQueue: 1, Blocked: 1,
			Other: 2, FailedInQueue: 1, OfferedCalls: 5, AvgWaitMS: 14333, MaxWaitMS: 90000, ServiceLevelRatio: 2.0 / 5},
		{ClientID: "beta", Calls: 6, Billable: 3, NonBillable: 3, Answered: 1, AnsweredInTime: 1, Abandoned: 1, Voicemail: 2, AfterHours: 1,
			Overflow: 1, OverflowInQueue: 2, OfferedCalls: 3, AvgWaitMS: 5000, MaxWaitMS: 300000, ServiceLevelRatio: 1.0 / 3},
	}
	if len(clients) != len(want) {
		t.Fatalf("clients %+v", clients)
	}
	for i := range want {
		if clients[i] != want[i] {
			t.Errorf("client %d:\n got %+v\nwant %+v", i, clients[i], want[i])
		}
	}
	// In time over what reached the queue: acme 2 of 3 answered + 1 gave
	// up waiting + 1 failed after waiting (not the one that failed before
	// the queue); beta's caller who hung up during the greeting is not
	// counted against it, nor is its after-hours voicemail, but its two
	// callers who waited to max_wait are (overflowed, one to voicemail).
	if sl := clients[0].ServiceLevel(); sl != 2.0/5 {
		t.Errorf("acme service level %v, want 2/5", sl)
	}
	if sl := clients[1].ServiceLevel(); sl != 1.0/3 {
		t.Errorf("beta service level %v, want 1/3", sl)
	}
	wantOps := []Operator{{OperatorID: "op1", Handled: 2, TalkMS: 150000, AvgTalkMS: 75000}, {OperatorID: "op2", Handled: 2, TalkMS: 80000, AvgTalkMS: 40000}}
	if len(ops) != 2 || ops[0] != wantOps[0] || ops[1] != wantOps[1] {
		t.Errorf("operators %+v, want %+v", ops, wantOps)
	}
	if c, o := Month(nil); len(c) != 0 || len(o) != 0 {
		t.Errorf("an empty month: %+v %+v", c, o)
	}
}

// TestCSVGolden: UTF-8 with a BOM (Excel in Japan), Japanese headings;
// a caller id or reason that would start a spreadsheet formula is quoted.
func TestCSVGolden(t *testing.T) {
	calls := month()
	calls[2].Reason = "=HYPERLINK(\"http://x\")"
	calls[6].CallerID = "+12125550123"
	clients, ops := Month(calls)
	for name, write := range map[string]func(*bytes.Buffer) error{
		"clients":   func(b *bytes.Buffer) error { return WriteClientsCSV(b, "2026-11", clients) },
		"operators": func(b *bytes.Buffer) error { return WriteOperatorsCSV(b, "2026-11", ops) },
		"calls":     func(b *bytes.Buffer) error { return WriteCallsCSV(b, calls) },
	} {
		var b bytes.Buffer
		if err := write(&b); err != nil {
			t.Fatal(err)
		}
		if !bytes.HasPrefix(b.Bytes(), []byte("\xef\xbb\xbf")) {
			t.Errorf("%s: no UTF-8 BOM", name)
		}
		golden.Check(t, filepath.Join("testdata", name+".csv.golden"), b.Bytes())
	}
}

// TestNothingOfferedHasNoServiceLevel: a month in which no call reached the
// queue (after hours only) has no service level: its CSV cell is empty and
// its JSON says offered 0, not a level of 0.0 that reads as every caller
// failed.
func TestNothingOfferedHasNoServiceLevel(t *testing.T) {
	at := time.Date(2026, 11, 2, 1, 0, 0, 0, time.UTC)
	clients, _ := Month([]store.CallRecord{{ID: "n1", ClientID: "night", Result: store.ResultAfterHours, StartedAt: at}})
	if len(clients) != 1 || clients[0].OfferedCalls != 0 {
		t.Fatalf("clients %+v", clients)
	}
	var b bytes.Buffer
	if err := WriteClientsCSV(&b, "2026-11", clients); err != nil {
		t.Fatal(err)
	}
	row := strings.Split(strings.Split(b.String(), "\n")[1], ",")
	if len(row) < 9 || row[8] != "" {
		t.Fatalf("row %q: want an empty service level (column 9)", row)
	}
}
