package call

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/CyCoreSystems/ari/v6"
	"github.com/gogo/protobuf/types"
	"github.com/toritsugi/toritsugi/pkg/config"
	"github.com/toritsugi/toritsugi/pkg/internal/leakcheck"
	"github.com/toritsugi/toritsugi/pkg/pbx"
	"github.com/toritsugi/toritsugi/pkg/store"
	"github.com/toritsugi/toritsugi/pkg/store/storetest"
)

func TestLiveStateRoundTrip(t *testing.T) {
	start := time.UnixMilli(1795898038000)
	for _, c := range []struct {
		number string
		st     Persisted
	}{
		{"0901234567", Persisted{ClientID: "acme", DID: "0312345678", Step: StepQueued, StartedAt: start, EnqueuedAt: start.Add(3 * time.Second)}},
		{"", Persisted{ClientID: "acme", DID: "1", Step: StepGreeting, StartedAt: start}}, // withheld
		{"+81 3&n=4", Persisted{ClientID: "a&n=c", DID: "1", Step: StepHangup, StartedAt: start, Result: "blocked", Reason: "blocked: n=1&x"}},
		{"0901234567", Persisted{ClientID: "acme", DID: "1", Step: StepConnected, StartedAt: start, OpID: "op1", OpChannel: "x-op", Bridge: "x-br",
			Waited: 12345 * time.Millisecond, Recording: "1795898038-1-ab12cd34"}},
	} {
		for _, until := range []time.Time{{}, start.Add(time.Minute)} {
			s := LiveState(c.number, c.st)
			if !until.IsZero() {
				s = withWatchedUntil(s, until)
			}
			number, st, gotUntil, err := parseLiveState(s)
			if err != nil || number != c.number || !st.StartedAt.Equal(c.st.StartedAt) || !st.EnqueuedAt.Equal(c.st.EnqueuedAt) || !gotUntil.Equal(until) {
				t.Fatalf("round trip of %q %+v (until %v) = %q %+v (until %v), %v", c.number, c.st, until, number, st, gotUntil, err)
			}
			want := c.st
			st.StartedAt, st.EnqueuedAt, want.StartedAt, want.EnqueuedAt = time.Time{}, time.Time{}, time.Time{}, time.Time{}
			if st != want {
				t.Fatalf("round trip = %+v, want %+v", st, want)
			}
		}
	}
	for _, bad := range []string{"", "n=1", "n=1&t=1&s=flying", "%zz", "t=1&s=queued&w=-5", "t=1&s=queued&w=x", "t=1&s=queued&u=x"} {
		if _, _, _, err := parseLiveState(bad); err == nil {
			t.Errorf("parseLiveState(%q) accepted", bad)
		}
	}
}

func FuzzParseLiveState(f *testing.F) {
	f.Add(LiveState("0901234567", Persisted{ClientID: "acme", DID: "0312345678", Step: StepQueued, StartedAt: time.UnixMilli(1), EnqueuedAt: time.UnixMilli(2)}))
	f.Add("n=&t=1&s=greeting")
	f.Fuzz(func(t *testing.T, s string) {
		number, st, _, err := parseLiveState(s)
		if err != nil {
			return
		}
		n2, again, _, err := parseLiveState(LiveState(number, st))
		if err != nil || n2 != number || again.Step != st.Step || again.ClientID != st.ClientID || !again.StartedAt.Equal(st.StartedAt) {
			t.Fatalf("re-encoding %q %+v gave %q %+v, %v", number, st, n2, again, err)
		}
	})
}

// TestUnseenRecord: what a call that ended while no controller watched is
// recorded as, from the state it saved last.
func TestUnseenRecord(t *testing.T) {
	start := time.Date(2026, 11, 29, 10, 0, 0, 0, time.UTC)
	now := start.Add(time.Hour)
	stopped := start.Add(time.Minute) // its controller watched it until then
	base := Persisted{ClientID: "acme", DID: "0312345678", StartedAt: start}
	with := func(f func(*Persisted)) Persisted { p := base; f(&p); return p }
	tests := []struct {
		name                 string
		u                    unseen
		result               store.Result
		billable             bool
		waitMS               int64
		reason, opID, record string
	}{
		{name: "waiting: a missed call, waited at least until the controller stopped",
			u:      unseen{st: with(func(p *Persisted) { p.Step, p.EnqueuedAt = StepQueued, start.Add(18*time.Second) }), watchedUntil: stopped},
			result: store.ResultAbandoned, waitMS: 42000, reason: "at least 42s"},
		{name: "waiting, watched until not known: at most until the restart",
			u:      unseen{st: with(func(p *Persisted) { p.Step, p.EnqueuedAt = StepQueued, start.Add(18*time.Second) })},
			result: store.ResultAbandoned, waitMS: 3582000, reason: "at most 59m42s"},
		{name: "queued just as the controller stopped: still a missed call",
			u:      unseen{st: with(func(p *Persisted) { p.Step, p.EnqueuedAt = StepQueued, stopped.Add(time.Second) }), watchedUntil: stopped},
			result: store.ResultAbandoned, waitMS: 1, reason: "at least 0s"},
		{name: "VIP transfer ringing (in line since it began)",
			u:      unseen{st: with(func(p *Persisted) { p.Step, p.VIP, p.EnqueuedAt = StepTransfer, true, start }), watchedUntil: stopped},
			result: store.ResultAbandoned, waitMS: 60000},
		{name: "greeting", u: unseen{st: with(func(p *Persisted) { p.Step = StepNew })}, result: store.ResultAbandoned, reason: "during the greeting"},
		{name: "talking, bridge gone too",
			u: unseen{st: with(func(p *Persisted) {
				p.Step, p.OpID, p.OpChannel, p.Bridge, p.Waited, p.Recording = StepConnected, "op1", "l", "b", 7*time.Second, "c1-rec"
			})},
			result: store.ResultAnswered, billable: true, opID: "op1", reason: "talked with op1", waitMS: 7000, record: "c1-rec"},
		{name: "transferred to the client", u: unseen{st: with(func(p *Persisted) { p.Step, p.OpChannel, p.Bridge = StepConnected, "x", "b" })},
			result: store.ResultTransferred, billable: true},
		{name: "after-hours voicemail left, billed",
			u:      unseen{st: with(func(p *Persisted) { p.Step, p.Recording, p.Result = StepVoicemail, "vm1", "after-hours" }), message: true, billAfterHours: true},
			result: store.ResultVoicemail, billable: true, record: "vm1", reason: "after hours"},
		{name: "overflow voicemail left",
			u: unseen{st: with(func(p *Persisted) {
				p.Step, p.Recording, p.Result, p.Waited = StepVoicemail, "vm1", "overflow", 5*time.Minute
			}), message: true, billAfterHours: true},
			result: store.ResultVoicemail, record: "vm1", reason: "(overflow)", waitMS: 300000},
		{name: "voicemail not left", u: unseen{st: with(func(p *Persisted) {
			p.Step, p.Recording, p.Result, p.Reason = StepVoicemail, "vm1", "overflow", "overflow: max wait"
		})}, result: store.ResultOverflow, reason: "overflow: max wait"},
		{name: "after hours, not billed", u: unseen{st: with(func(p *Persisted) { p.Step, p.Result, p.Reason = StepHangup, "after-hours", "closed: weekend" })},
			result: store.ResultAfterHours, reason: "closed: weekend"},
		{name: "after hours, billed", u: unseen{st: with(func(p *Persisted) { p.Step, p.Result = StepHangup, "after-hours" }), billAfterHours: true},
			result: store.ResultAfterHours, billable: true},
		{name: "blocked", u: unseen{st: with(func(p *Persisted) { p.Step, p.Result, p.Reason = StepHangup, "blocked", "blocked: sales" }), billAfterHours: true},
			result: store.ResultBlocked, reason: "blocked: sales"},
		{name: "answered and settled, its record not stored", u: unseen{st: with(func(p *Persisted) {
			p.Step, p.Result, p.Reason, p.OpID, p.Recording, p.Waited = StepQueued, "answered", "talked with op1; caller hung up", "op1", "c1-rec", 3*time.Second
		})}, result: store.ResultAnswered, billable: true, opID: "op1", record: "c1-rec", waitMS: 3000, reason: "caller hung up"},
		{name: "after-hours voicemail settled, its record not stored", u: unseen{st: with(func(p *Persisted) {
			p.Step, p.Result, p.Reason, p.Recording = StepHangup, "voicemail", "voicemail left (after hours)", "vm1"
		}), billAfterHours: true}, result: store.ResultVoicemail, billable: true, record: "vm1"},
		{name: "callback offered, not requested", u: unseen{st: with(func(p *Persisted) {
			p.Step, p.Result, p.Reason, p.EnqueuedAt = StepCallback, "overflow", "overflow: max wait", start
		})}, result: store.ResultOverflow, reason: "overflow: max wait"},
		{name: "callback requested", u: unseen{st: with(func(p *Persisted) {
			p.Step, p.Result, p.Reason, p.EnqueuedAt = StepCallback, "overflow", "overflow: max wait", start
		}), callbackStored: true}, result: store.ResultOverflow, reason: "callback requested"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.u.id, tc.u.number = "c1", "09012345678"
			rec := tc.u.record(now)
			if rec.Result != tc.result || rec.Billable != tc.billable || rec.WaitMS != tc.waitMS || rec.OperatorID != tc.opID ||
				!strings.Contains(rec.Reason, tc.reason) || rec.Recording != tc.record {
				t.Fatalf("record %+v", rec)
			}
			if rec.ID != "c1" || rec.ClientID != "acme" || rec.DID != "0312345678" || rec.CallerID != "09012345678" || rec.CallerKind != "number" ||
				!rec.StartedAt.Equal(start) || !rec.EndedAt.Equal(now) || len(rec.Events) != 1 || !strings.Contains(rec.Events[0].What, "no controller watched") {
				t.Fatalf("record %+v", rec)
			}
		})
	}
}

// TestUnseenRecordSaysTheRecordingFailed: a call whose conversation
// Asterisk could not record ended while no controller watched (bridge
// gone too): its record names no recording and says why, as the one its
// own controller would have stored.
func TestUnseenRecordSaysTheRecordingFailed(t *testing.T) {
	start := time.UnixMilli(1795898038000)
	st := Persisted{ClientID: "acme", DID: "0312345678", StartedAt: start, AnsweredAt: start, Step: StepConnected, OpID: "op1", OpChannel: "l", Bridge: "b",
		BridgedAt: start.Add(10 * time.Second), RecordingFailed: "disk full"}
	_, saved, _, err := parseLiveState(LiveState("0901234567", st))
	if err != nil {
		t.Fatal(err)
	}
	rec := unseen{id: "c1", number: "0901234567", st: saved}.record(start.Add(time.Hour))
	if rec.Result != store.ResultAnswered || rec.Recording != "" || !strings.Contains(fmt.Sprint(rec.Events), "the conversation could not be recorded: disk full") {
		t.Fatalf("record %+v", rec)
	}
}

// TestUnseenRecordOfASettledCall: a call its controller settled (talked
// 1 min, the caller hung up) but could not store the record of, recorded
// at the next start two hours later: it ended when it was settled, not at
// the restart (talk time 1 min, not 2 h), with the reason it was settled
// with. Its live state says when (withEndedAt); a state that does not
// (only watched until then) still ends at most at the restart.
func TestUnseenRecordOfASettledCall(t *testing.T) {
	start := time.UnixMilli(1795898038000)
	bridged, ended, restart := start.Add(10*time.Second), start.Add(70*time.Second), start.Add(2*time.Hour)
	st := Persisted{ClientID: "acme", DID: "0312345678", StartedAt: start, AnsweredAt: start, Step: StepConnected, OpID: "op1", OpChannel: "l", Bridge: "b",
		BridgedAt: bridged, Result: string(store.ResultAnswered), Reason: "talked with op1; caller hung up"}
	saved := withEndedAt(withWatchedUntil(LiveState("0901234567", st), ended), ended)
	if _, _, until, err := parseLiveState(saved); err != nil || !until.Equal(ended) {
		t.Fatalf("parseLiveState(%q) = until %v, %v", saved, until, err)
	}
	u := unseen{id: "c1", number: "0901234567", st: st, watchedUntil: ended, ended: endedAt(saved)}
	rec := u.record(restart)
	if !rec.EndedAt.Equal(ended) || rec.EndedAt.Sub(rec.BridgedAt) != time.Minute || rec.Result != store.ResultAnswered ||
		rec.Reason != st.Reason || rec.OperatorID != "op1" || !rec.Billable {
		t.Fatalf("record %+v, want answered by op1, ended at %v (talked 1m)", rec, ended)
	}
	u.ended = endedAt(withWatchedUntil(LiveState("0901234567", st), ended))
	if rec := u.record(restart); !u.ended.IsZero() || !rec.EndedAt.Equal(restart) {
		t.Fatalf("a state only watched until %v: ended %v, recorded as ended %v; want the restart", ended, u.ended, rec.EndedAt)
	}
}

// TestUnseenRecordOfALostVoicemail: a call whose message Asterisk could
// not record, its record not stored (the disk full), recorded at the next
// start from its saved state: the record still says the message was lost,
// for the client's notice (a review found it dropped on this path).
func TestUnseenRecordOfALostVoicemail(t *testing.T) {
	start := time.UnixMilli(1795898038000)
	ended := start.Add(3 * time.Minute)
	st := Persisted{ClientID: "acme", DID: "0312345678", StartedAt: start, AnsweredAt: start, Step: StepHangup,
		Result: string(store.ResultOverflow), Reason: "overflow: max-wait", VoicemailFailed: true}
	saved := withEndedAt(withWatchedUntil(LiveState("09012345678", st), ended), ended)
	_, parsed, _, err := parseLiveState(saved)
	if err != nil {
		t.Fatal(err)
	}
	u := unseen{id: "c1", number: "09012345678", st: parsed, watchedUntil: ended, ended: endedAt(saved)}
	if rec := u.record(ended.Add(time.Hour)); !rec.VoicemailFailed || rec.Result != store.ResultOverflow {
		t.Fatalf("record %+v, want the overflow with its message lost", rec)
	}
}

// TestUnseenRecordOfASilentMessage: a call whose message had nothing said
// in it, ended before the restart and its record not stored, recorded at
// the next start from its saved state: no voicemail, the recording kept,
// said so for the client's notice.
func TestUnseenRecordOfASilentMessage(t *testing.T) {
	start := time.UnixMilli(1795898038000)
	ended := start.Add(3 * time.Minute)
	st := Persisted{ClientID: "acme", DID: "0312345678", StartedAt: start, AnsweredAt: start, Step: StepVoicemail, Recording: "c1-vm",
		Result: string(store.ResultOverflow), Reason: "overflow: max-wait", VoicemailSilent: true}
	saved := withEndedAt(withWatchedUntil(LiveState("09012345678", st), ended), ended)
	_, parsed, _, err := parseLiveState(saved)
	if err != nil {
		t.Fatal(err)
	}
	u := unseen{id: "c1", number: "09012345678", st: parsed, watchedUntil: ended, ended: endedAt(saved), message: true}
	if rec := u.record(ended.Add(time.Hour)); !rec.VoicemailSilent || rec.Result != store.ResultOverflow || rec.Recording != "c1-vm" {
		t.Fatalf("record %+v, want the overflow with its silent message", rec)
	}
}

// deletingARI records the bridges deleted (Bridge().Delete).
type deletingARI struct {
	ari.Client
	deleted *[]string
}

func (c deletingARI) Bridge() ari.Bridge { return deletingBridge{deleted: c.deleted} }

type deletingBridge struct {
	ari.Bridge
	deleted *[]string
}

func (b deletingBridge) Delete(key *ari.Key) error {
	*b.deleted = append(*b.deleted, key.ID)
	return nil
}

// TestSettledCallWithItsBridgeLeft: a call its controller settled, then
// failed both to store the record and to destroy the bridge, is found by
// its bridge at the next start. The saved state says how and when it
// ended: that is the record, not the bridge's guess ended at the restart.
func TestSettledCallWithItsBridgeLeft(t *testing.T) {
	s := storetest.Open(t)
	var deleted []string
	m := NewManager(context.Background(), Deps{Recorder: s, ARI: deletingARI{deleted: &deleted}, Config: func() *config.Config { return unseenConfig(t) }})
	start := time.Now().Add(-2 * time.Hour).Truncate(time.Millisecond)
	ended := start.Add(70 * time.Second)
	st := Persisted{ClientID: "acme", DID: "0312345678", StartedAt: start, AnsweredAt: start, Step: StepConnected, OpID: "op1", OpChannel: "l", Bridge: "b1",
		BridgedAt: start.Add(10 * time.Second), Result: string(store.ResultAnswered), Reason: "talked with op1; operator hung up"}
	saved := withEndedAt(withWatchedUntil(LiveState("09012345678", st), ended), ended)
	m.endedUnseen([]*ari.BridgeData{{ID: "b1", Name: BridgeName("toritsugi", "c1", "09012345678", st), ChannelIDs: []string{"l"}}}, map[string]bool{}, saved, ended)
	rec, err := s.Call("c1")
	if err != nil {
		t.Fatal(err)
	}
	if !rec.EndedAt.Equal(ended) || rec.Reason != st.Reason || rec.Result != store.ResultAnswered || len(deleted) != 1 || deleted[0] != "b1" {
		t.Fatalf("record %+v, bridges deleted %v; want ended at %v as settled, and b1 destroyed", rec, deleted, ended)
	}
}

// flakyARI answers StoredRecording().Data with an error fails times, then
// as Asterisk does for a stored message.
type flakyARI struct {
	ari.Client
	rec *flakyStored
}

func (c flakyARI) StoredRecording() ari.StoredRecording { return c.rec }

type flakyStored struct {
	ari.StoredRecording
	mu           sync.Mutex
	fails, calls int
}

func (s *flakyStored) Data(key *ari.Key) (*ari.StoredRecordingData, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls++
	if s.calls <= s.fails {
		return nil, errors.New("ari: 500 Internal Server Error")
	}
	return &ari.StoredRecordingData{Key: key, Name: key.ID, Format: "wav"}, nil
}

// TestRecordUnseenAsksAgainForTheVoicemail: Asterisk failing to say
// whether a message is stored does not make it "no message" (the call
// would be recorded without it and the message never relayed): it is
// asked again. A manager that stops meanwhile leaves the call to the next.
func TestRecordUnseenAsksAgainForTheVoicemail(t *testing.T) {
	leakcheck.Check(t)
	cfg := unseenConfig(t)
	st := Persisted{ClientID: "acme", DID: "0312345678", Step: StepVoicemail, StartedAt: time.Now().Add(-time.Minute), Recording: "c1-vm-ab12", Result: "overflow"}
	for _, tc := range []struct {
		name    string
		stopped bool
	}{{"asked again", false}, {"manager stopped meanwhile", true}} {
		t.Run(tc.name, func(t *testing.T) {
			s := storetest.Open(t)
			stored := &flakyStored{fails: 1}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			m := NewManager(ctx, Deps{ARI: flakyARI{rec: stored}, Config: func() *config.Config { return cfg }, Recorder: s})
			if tc.stopped {
				cancel()
			}
			seen := st.StartedAt.Add(30 * time.Second).Truncate(time.Millisecond)
			m.recordUnseen("c1", LiveState("09012345678", st), seen)
			rec, err := s.Call("c1")
			switch {
			case tc.stopped && err == nil:
				t.Fatalf("recorded %+v after the manager stopped", rec)
			case tc.stopped:
				// Left to the next controller, with the time its own
				// watched it until (this one's heartbeat says nothing of it).
				left := waitLive(t, s, "c1")
				if _, kept, until, perr := parseLiveState(left); perr != nil || kept.Step != StepVoicemail || !until.Equal(seen) {
					t.Fatalf("state left for the next controller %q, %v; want the voicemail step, watched until %v", left, perr, seen)
				}
			case err != nil || rec.Result != store.ResultVoicemail || rec.Recording != "c1-vm-ab12" || stored.calls != 2:
				t.Fatalf("record %+v, %v after %d questions; want the voicemail after 2", rec, err, stored.calls)
			}
		})
	}
}

// TestLiveSeenOnlyWhileLinkUp: the time until which calls were watched is
// recorded while the ARI link is up and there are calls (and when the link
// goes up or down), never before the predecessor's was read, and not while
// the link is down: a caller
// who hangs up during a link outage followed by a restart is not said to
// have waited until the restart.
func TestLiveSeenOnlyWhileLinkUp(t *testing.T) {
	leakcheck.Check(t)
	s := storetest.Open(t)
	ctx, cancel := context.WithCancel(context.Background())
	m := NewManager(ctx, Deps{Recorder: s})
	t.Cleanup(func() { cancel(); m.Wait() })
	m.seenEvery = 5 * time.Millisecond
	seen := func() time.Time {
		_, at, err := s.LiveCalls()
		if err != nil {
			t.Fatal(err)
		}
		return at
	}
	eventually := func(what string, cond func() bool) {
		t.Helper()
		for deadline := time.Now().Add(5 * time.Second); !cond(); time.Sleep(5 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s", what)
			}
		}
	}
	m.LinkState(true) // before the first connect read the store
	time.Sleep(30 * time.Millisecond)
	if at := seen(); !at.IsZero() {
		t.Fatalf("watched-until time %v written before the predecessor's was read", at)
	}
	m.inheritedLive()
	m.LinkState(true)
	first := time.Time{}
	eventually("a watched-until time", func() bool { first = seen(); return !first.IsZero() })
	time.Sleep(40 * time.Millisecond) // eight ticks, but no call to watch: no write (and no fsync)
	if at := seen(); !at.Equal(first) {
		t.Fatalf("watched-until time moved from %v to %v with no call", first, at)
	}
	m.mu.Lock()
	m.calls["c1"] = &actor{}
	m.mu.Unlock()
	eventually("the time advancing while the link is up", func() bool { return seen().After(first) })
	m.LinkState(false)
	down := time.Now()
	eventually("the time the link went down", func() bool { return !seen().Before(down.Add(-time.Millisecond)) })
	time.Sleep(20 * time.Millisecond) // a tick that raced the link going down is written by now
	atDown := seen()
	time.Sleep(40 * time.Millisecond) // eight ticks
	if at := seen(); !at.Equal(atDown) {
		t.Fatalf("watched-until time moved from %v to %v while the link was down", atDown, at)
	}
}

// TestRecordUnseenDropsUnreadableState: a live state that cannot be read
// is dropped after its error is logged, not read again at every start.
func TestRecordUnseenDropsUnreadableState(t *testing.T) {
	s := storetest.Open(t)
	s.SaveLive("c1", "t=1&s=flying")
	waitLive(t, s, "c1")
	m := NewManager(context.Background(), Deps{Recorder: s})
	m.recordUnseen("c1", "t=1&s=flying", time.Time{})
	if live, _, err := s.LiveCalls(); err != nil || len(live) != 0 {
		t.Fatalf("live states %v, %v; want the unreadable one dropped", live, err)
	}
	if _, err := s.Call("c1"); err == nil {
		t.Fatal("a record was made of an unreadable state")
	}
}

// FuzzEncodeIsAQuery: whatever the fields hold, the one-buffer encoding
// reads back through url.ParseQuery as url.Values would have written it:
// every value whole, no key injected, and a bridge name's fields after its
// tag.
func FuzzEncodeIsAQuery(f *testing.F) {
	f.Add("acme", "0312345678", "09012345678", "op1", "x-op;&=%", "blocked: n=1&x;", int64(1795898038000), "voicemail:after hours")
	f.Add("", "", "", "", "", "", int64(0), "")
	f.Fuzz(func(t *testing.T, client, did, number, op, leg, reason string, ms int64, then string) {
		st := Persisted{ClientID: client, DID: did, Step: StepConnected, StartedAt: time.UnixMilli(ms), OpID: op, OpChannel: leg, Bridge: leg + ";",
			Result: "blocked", Reason: reason, Waited: time.Duration(max(ms, 0)%1e9) * time.Millisecond, Then: then}
		if ms > 0 {
			st.AnsweredAt, st.BridgedAt = time.UnixMilli(ms+1), time.UnixMilli(ms+2)
		}
		if st.OpChannel == "" {
			st.OpChannel = "l"
		}
		want := url.Values{"c": {client}, "d": {did}, "s": {string(StepConnected)}, "t": {strconv.FormatInt(ms, 10)},
			"x": {"blocked"}, "xr": {reason}, "o": {op}, "oc": {st.OpChannel}, "b": {st.Bridge}}
		if st.Waited > 0 {
			want.Set("w", strconv.FormatInt(st.Waited.Milliseconds(), 10))
		}
		if ms > 0 {
			want.Set("a", strconv.FormatInt(ms+1, 10))
			want.Set("ba", strconv.FormatInt(ms+2, 10))
		}
		if then != "" {
			want.Set("th", then)
		}
		if op == "" {
			want.Del("o")
		}
		check := func(what, s string, extra url.Values) {
			got, err := url.ParseQuery(s)
			if err != nil {
				t.Fatalf("%s %q: %v", what, s, err)
			}
			w := url.Values{}
			for k, v := range want {
				w[k] = v
			}
			for k, v := range extra {
				w[k] = v
			}
			if !reflect.DeepEqual(got, w) {
				t.Fatalf("%s %q reads back as %v, want %v", what, s, got, w)
			}
		}
		check("Encode", st.Encode(), nil)
		if back, err := DecodePersisted(st.Encode()); err == nil &&
			(!back.AnsweredAt.Equal(st.AnsweredAt) || !back.BridgedAt.Equal(st.BridgedAt) || back.Then != st.Then) {
			t.Fatalf("decoded %+v, want the times and what follows of %+v", back, st)
		}
		live := url.Values{}
		if number != "" {
			live.Set("n", number)
		}
		check("LiveState", LiveState(number, st), live)
		name := BridgeName("toritsugi", "c;1", number, st)
		rest, ok := strings.CutPrefix(name, bridgeTag)
		if !ok {
			t.Fatalf("bridge name %q without its tag", name)
		}
		want.Del("x")
		want.Del("xr")
		bridge := url.Values{"app": {"toritsugi"}, "call": {"c;1"}}
		if number != "" {
			bridge.Set("n", number)
		}
		check("BridgeName", rest, bridge)
	})
}

// unseenConfig has one client, acme (03-1234-5678).
func unseenConfig(t *testing.T) *config.Config {
	t.Helper()
	yaml := `
ari: {url: "http://127.0.0.1:1/ari", user: toritsugi, password: toritsugi}
data_dir: /nonexistent
clients:
  - {id: acme, name: ACME, dids: ["03-1234-5678"], greeting: sound:toritsugi/acme-greeting}
operators:
  - {id: op1, name: 佐藤, endpoint: PJSIP/op1, clients: ["*"]}
`
	cfg, err := config.Parse("test.yaml", []byte(yaml), func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// waitLive waits for the live state of call id to be written (the store
// writes live states in the background) and returns it.
func waitLive(t *testing.T, s *store.Store, id string) string {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		live, _, err := s.LiveCalls()
		if err == nil && live[id] != "" {
			return live[id]
		}
		if time.Now().After(deadline) {
			t.Fatalf("no live state of %s written: %v, %v", id, live, err)
		}
	}
}

// unreadableCallbacks fails to read any callback request, as a store whose
// file cannot be read does.
type unreadableCallbacks struct{}

var errUnreadable = errors.New("store: read: input/output error")

func (unreadableCallbacks) PutCallback(store.Callback) error { return errUnreadable }

func (unreadableCallbacks) Callback(string) (store.Callback, error) {
	return store.Callback{}, errUnreadable
}

// TestRecordUnseenKeepsWhatItCannotRead: a call that ended unseen while
// offered a callback is recorded as requesting one only if its request is
// stored; when the store fails to say, the call is not recorded as a
// plain overflow but left, with its state, to the next start.
func TestRecordUnseenKeepsWhatItCannotRead(t *testing.T) {
	s := storetest.Open(t)
	m := NewManager(context.Background(), Deps{Recorder: s, Callbacks: unreadableCallbacks{}, Config: func() *config.Config { return unseenConfig(t) }})
	st := Persisted{ClientID: "acme", DID: "0312345678", Step: StepCallback, StartedAt: time.Now().Add(-time.Minute), Result: "overflow", Reason: "overflow: max-wait"}
	seen := st.StartedAt.Add(30 * time.Second).Truncate(time.Millisecond)
	m.recordUnseen("c1", LiveState("09012345678", st), seen)
	if rec, err := s.Call("c1"); err == nil {
		t.Fatalf("recorded %s (%s) without knowing whether a callback was requested", rec.Result, rec.Reason)
	}
	left := waitLive(t, s, "c1")
	if _, kept, until, err := parseLiveState(left); err != nil || kept.Step != StepCallback || !until.Equal(seen) {
		t.Fatalf("state left for the next start %q, %v; want the callback step, watched until %v", left, err, seen)
	}
}

// TestCallNeverSeenIsRecorded: the StasisEnd of an inbound call no actor
// ever had (its StasisStart lost with a dying event link, and the caller
// gone before the re-sync read the channel) records the call as a caller
// who hung up before the answer; a call recorded already keeps its record,
// one with a live state is left to it, and an operator's leg records
// nothing.
func TestCallNeverSeenIsRecorded(t *testing.T) {
	s := storetest.Open(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	m := NewManager(ctx, Deps{Recorder: s, Config: func() *config.Config { return unseenConfig(t) }})
	started := time.Now().Add(-20 * time.Second).Truncate(time.Millisecond)
	end := func(id, appData string) {
		m.Hooks().Other(&ari.StasisEnd{Channel: ari.ChannelData{ID: id, Caller: &ari.CallerID{Number: "09012345678"},
			Creationtime: &types.Timestamp{Seconds: started.Unix(), Nanos: int32(started.Nanosecond())},
			Dialplan:     &ari.DialplanCEP{Context: "from-trunk", AppName: "Stasis", AppData: appData}}})
	}
	done := store.CallRecord{ID: "done", ClientID: "acme", DID: "0312345678", CallerID: "09012345678", CallerKind: "number",
		Result: store.ResultAnswered, Reason: "talked with op1", OperatorID: "op1", Billable: true, StartedAt: started, EndedAt: started.Add(time.Second)}
	if err := s.PutCall(done); err != nil {
		t.Fatal(err)
	}
	// A predecessor's call the store has a live state of is recorded from
	// that state (recordUnseen), not here.
	kept := LiveState("09012345678", Persisted{ClientID: "acme", DID: "0312345678", Step: StepVoicemail, StartedAt: started, Recording: "kept-vm-1", Result: "overflow"})
	s.SaveLive("kept", kept)
	waitLive(t, s, "kept")
	end("lost", "toritsugi,inbound,0312345678")
	end("done", "toritsugi,inbound,0312345678")
	end("kept", "toritsugi,inbound,0312345678")
	end("lost-op-op1-x-1", "toritsugi,operator,lost")
	cancel()
	m.Wait()
	if _, err := s.Call("kept"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("a call with a live state was recorded here: %v", err)
	}
	if got := waitLive(t, s, "kept"); got != kept {
		t.Fatalf("its live state %q, want it kept", got)
	}
	rec, err := s.Call("lost")
	if err != nil || rec.Result != store.ResultAbandoned || rec.Billable || rec.ClientID != "acme" || rec.CallerID != "09012345678" ||
		!rec.StartedAt.Equal(started) || !strings.Contains(rec.Reason, "before the answer") {
		t.Fatalf("the call never seen: %+v, %v", rec, err)
	}
	if rec, err := s.Call("done"); err != nil || rec.Result != store.ResultAnswered {
		t.Fatalf("the call recorded already: %+v, %v", rec, err)
	}
	if _, err := s.Call("lost-op-op1-x-1"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("an operator leg was recorded: %v", err)
	}
}

// TestCallComingAsTheControllerStopsIsKept: Asterisk, which still has
// the stopping controller's websocket, puts a call in Stasis; its
// StasisStart comes after the controller's context ended, and no actor
// runs. Its state is kept for the next controller, which records it if
// the caller hung up meanwhile (their StasisEnd went to no websocket):
// before, no one ever recorded such a call (a soak test's restart lost
// one). A call whose DID is read from the To header (which needs
// Asterisk) and a call to no client are not kept.
func TestCallComingAsTheControllerStopsIsKept(t *testing.T) {
	s := storetest.Open(t)
	ctx, cancel := context.WithCancel(context.Background())
	m := NewManager(ctx, Deps{Recorder: s, Config: func() *config.Config { return unseenConfig(t) }, Logger: storetest.Logger(t)})
	cancel()
	started := time.Now().Add(-3 * time.Second).Truncate(time.Millisecond)
	start := func(id string, args ...string) bool {
		return nil != m.Hooks().NewChannel(&ari.StasisStart{Args: args, Channel: ari.ChannelData{ID: id, Caller: &ari.CallerID{Number: "09012345678"},
			Creationtime: &types.Timestamp{Seconds: started.Unix(), Nanos: int32(started.Nanosecond())}}})
	}
	for id, args := range map[string][]string{
		"late":    {"inbound", "0312345678"},
		"to":      {"inbound", "s", "to"},
		"nobodys": {"inbound", "0399999999"},
	} {
		if start(id, args...) {
			t.Fatalf("%s: an actor was started by a stopped controller", id)
		}
	}
	m.Wait()
	got := waitLive(t, s, "late")
	number, st, _, err := parseLiveState(got)
	if err != nil || number != "09012345678" || st.ClientID != "acme" || st.DID != "0312345678" || st.Step != StepNew || !st.StartedAt.Equal(started) {
		t.Fatalf("kept %q: %q %+v %v; want acme's new call since the channel's creation", got, number, st, err)
	}
	for _, id := range []string{"to", "nobodys"} {
		if live, _, err := s.LiveCalls(); err != nil || live[id] != "" {
			t.Fatalf("%s kept: %q %v", id, live[id], err)
		}
	}
	// The next controller finds it gone: recorded from that state.
	next := NewManager(context.Background(), Deps{Recorder: s, Config: func() *config.Config { return unseenConfig(t) }, Logger: storetest.Logger(t)})
	next.recordUnseen("late", got, time.Time{})
	rec, err := s.Call("late")
	if err != nil || rec.Result != store.ResultAbandoned || rec.ClientID != "acme" || !rec.StartedAt.Equal(started) || rec.CallerID != "09012345678" {
		t.Fatalf("the call that came as the controller stopped: %+v, %v", rec, err)
	}
}

// TestActorKeepsItsCallAtTheStop: an actor made for a StasisStart it has
// not handled yet when the controller stops keeps the call from that
// StasisStart; one whose call has begun (decided, or in line) saves its
// state as it is: the next controller records either if its caller
// hangs up before it connects.
func TestActorKeepsItsCallAtTheStop(t *testing.T) {
	s := storetest.Open(t)
	ctx, cancel := context.WithCancel(context.Background())
	m := NewManager(ctx, Deps{Recorder: s, Config: func() *config.Config { return unseenConfig(t) }, Logger: storetest.Logger(t),
		Dispatcher: pbx.NewDispatcher(pbx.Hooks{}, storetest.Logger(t))})
	started := time.Now().Add(-time.Minute).Truncate(time.Millisecond)
	unbegun := m.newActor("unbegun", nil)
	unbegun.unbegun = &ari.StasisStart{Args: []string{"inbound", "0312345678"}, Channel: ari.ChannelData{ID: "unbegun",
		Caller: &ari.CallerID{Number: "09012345678"}, Creationtime: &types.Timestamp{Seconds: started.Unix(), Nanos: int32(started.Nanosecond())}}}
	begun := m.newActor("begun", nil)
	begun.rec.CallerID = "09087654321"
	begun.state = Persisted{ClientID: "acme", DID: "0312345678", Step: StepNew, StartedAt: started, Result: string(store.ResultAfterHours), Reason: "closed: holiday"}
	begun.rec.Result, begun.rec.Reason = store.ResultAfterHours, "closed: holiday"
	cancel()
	m.start(unbegun)
	m.start(begun)
	m.Wait()
	if _, st, _, err := parseLiveState(waitLive(t, s, "unbegun")); err != nil || st.ClientID != "acme" || st.Step != StepNew || !st.StartedAt.Equal(started) {
		t.Fatalf("the call not begun kept as %+v, %v", st, err)
	}
	n, st, _, err := parseLiveState(waitLive(t, s, "begun"))
	if err != nil || n != "09087654321" || st.Result != string(store.ResultAfterHours) {
		t.Fatalf("the decided call kept as %q %+v, %v; want its after-hours result", n, st, err)
	}
}

// TestUnseenAfterHoursBilledAsDecided: a call decided after hours, for a
// client that billed such calls then, is recorded after a restart as
// billed, though a reload turned bill_after_hours off meanwhile: it took
// the configuration at the restart (a review of billing). A state of an
// earlier version, without the decision, still takes the configuration.
func TestUnseenAfterHoursBilledAsDecided(t *testing.T) {
	s := storetest.Open(t)
	m := NewManager(context.Background(), Deps{Recorder: s, Config: func() *config.Config { return unseenConfig(t) }, Logger: storetest.Logger(t)}) // acme: bill_after_hours off
	start := time.Now().Add(-time.Hour).Truncate(time.Millisecond)
	for i, tc := range []struct {
		bill Bill
		want bool
	}{{BillYes, true}, {BillNo, false}, {BillUnknown, false}} {
		id := fmt.Sprint("c", i)
		st := Persisted{ClientID: "acme", DID: "0312345678", Step: StepHangup, StartedAt: start,
			Result: string(store.ResultAfterHours), Reason: "closed: holiday", BillAfterHours: tc.bill}
		m.recordUnseen(id, LiveState("0901234567", st), start.Add(time.Minute))
		rec, err := s.Call(id)
		if err != nil || rec.Result != store.ResultAfterHours || rec.Billable != tc.want {
			t.Errorf("decided %v: %+v, %v; want after-hours, billable %v", tc.bill, rec, err, tc.want)
		}
	}
}
