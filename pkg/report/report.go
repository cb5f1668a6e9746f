// Package report sums up call records for a month: per client (the
// figures a client's invoice and service review need) and per operator.
// It is pure: records in, rows out.
package report

import (
	"cmp"
	"slices"
	"time"

	"github.com/toritsugi/toritsugi/pkg/store"
)

// AnsweredInTime is the wait within which an answered call counts as
// answered in time (the common 80/20 service level).
const AnsweredInTime = 20 * time.Second

// Client is one client's month.
type Client struct {
	ClientID    string `json:"client_id"`
	Calls       int    `json:"calls"`
	Billable    int    `json:"billable"`
	NonBillable int    `json:"non_billable"`
	// Of the calls, those the operator recorded as a sales call, a wrong
	// number, or silence (not billed, whatever their result).
	Sales       int `json:"sales"`
	WrongNumber int `json:"wrong_number"`
	Silent      int `json:"silent"`
	// Answered by an operator; Transferred to the client (VIP);
	// AnsweredInTime: of both, those that waited at most AnsweredInTime.
	Answered       int `json:"answered"`
	Transferred    int `json:"transferred"`
	AnsweredInTime int `json:"answered_in_time"`
	// Abandoned: the caller hung up before anyone answered (不在着信);
	// AbandonedInQueue: of those, the ones who had waited in the queue
	// (not during the greeting).
	Abandoned        int `json:"abandoned"`
	AbandonedInQueue int `json:"abandoned_in_queue"`
	Voicemail        int `json:"voicemail"`
	AfterHours       int `json:"after_hours"`
	Blocked          int `json:"blocked"`
	Overflow         int `json:"overflow"`
	// OverflowInQueue: the callers who waited in the queue until its
	// overflow (max_wait) and left it unanswered: with a message, a
	// voicemail or a callback request.
	OverflowInQueue int `json:"overflow_in_queue"`
	Other           int `json:"other"` // failed, completed, unknown DID
	// FailedInQueue: of Other, the calls that failed after waiting in the
	// queue (counted as offered: they were not served in time).
	FailedInQueue int `json:"failed_in_queue"`
	// OfferedCalls is Offered(): 0 means no service level (nothing
	// reached the queue), not a level of 0.
	OfferedCalls int `json:"offered"`
	// ServiceLevelRatio is ServiceLevel(), 0 to 1, for the JSON report.
	ServiceLevelRatio float64 `json:"service_level"`
	// AvgWaitMS is the mean wait of the answered calls; MaxWaitMS the
	// longest wait of any call.
	AvgWaitMS int64 `json:"avg_wait_ms"`
	MaxWaitMS int64 `json:"max_wait_ms"`
}

// ServiceLevel is the share of the calls that reached the queue answered
// in time: (answered or transferred within AnsweredInTime) / Offered(); 0
// when none did. The wallboard's figure for the day is the same.
func (c Client) ServiceLevel() float64 {
	return ServiceLevel(c.AnsweredInTime, c.Offered())
}

// Offered is how many calls reached the queue and were answered or left
// it: answered, transferred, abandoned after waiting, overflowed after
// waiting (a caller who waited to max_wait was not served in time,
// whatever the overflow gave them), and failed after waiting.
func (c Client) Offered() int {
	return c.Answered + c.Transferred + c.AbandonedInQueue + c.OverflowInQueue + c.FailedInQueue
}

// ServiceLevel is inTime / offered, 0 when nothing was offered.
func ServiceLevel(inTime, offered int) float64 {
	if offered == 0 {
		return 0
	}
	return float64(inTime) / float64(offered)
}

// Operator is one operator's month.
type Operator struct {
	OperatorID string `json:"operator_id"`
	// Handled: calls the operator talked on; TalkMS their talk time (from
	// the bridge to the end; from the answer for records without the
	// bridge's time, stored before it was kept).
	Handled   int   `json:"handled"`
	TalkMS    int64 `json:"talk_ms"`
	AvgTalkMS int64 `json:"avg_talk_ms"`
}

// Month sums calls up, per client and per operator, each sorted by id.
// Calls without a client (unknown DIDs) are left out of the clients.
func Month(calls []store.CallRecord) ([]Client, []Operator) {
	var t Tally
	t.Add(calls)
	return t.Result()
}

// Tally sums calls up as Month does, a part at a time: a month of a busy
// desk is read a page at a time, not held whole. The zero value is empty.
type Tally struct {
	clients map[string]*Client
	ops     map[string]*Operator
	waited  map[string]int64 // answered calls' wait, per client
}

// Add counts calls.
func (t *Tally) Add(calls []store.CallRecord) {
	if t.clients == nil {
		t.clients, t.ops, t.waited = map[string]*Client{}, map[string]*Operator{}, map[string]int64{}
	}
	for _, r := range calls {
		if r.ClientID != "" {
			c := t.clients[r.ClientID]
			if c == nil {
				c = &Client{ClientID: r.ClientID}
				t.clients[r.ClientID] = c
			}
			count(c, r)
			if r.Result == store.ResultAnswered {
				t.waited[r.ClientID] += r.WaitMS
			}
		}
		if r.OperatorID != "" && r.Result == store.ResultAnswered {
			o := t.ops[r.OperatorID]
			if o == nil {
				o = &Operator{OperatorID: r.OperatorID}
				t.ops[r.OperatorID] = o
			}
			o.Handled++
			from := r.BridgedAt
			if from.IsZero() {
				from = r.AnsweredAt
			}
			if !from.IsZero() && r.EndedAt.After(from) {
				o.TalkMS += r.EndedAt.Sub(from).Milliseconds()
			}
		}
	}
}

// Result returns the sums, per client and per operator, each sorted by id.
func (t *Tally) Result() ([]Client, []Operator) {
	outC := make([]Client, 0, len(t.clients))
	for id, c := range t.clients {
		c := *c
		if c.Answered > 0 {
			c.AvgWaitMS = t.waited[id] / int64(c.Answered)
		}
		c.ServiceLevelRatio = c.ServiceLevel()
		c.OfferedCalls = c.Offered()
		outC = append(outC, c)
	}
	slices.SortFunc(outC, func(a, b Client) int { return cmp.Compare(a.ClientID, b.ClientID) })
	outO := make([]Operator, 0, len(t.ops))
	for _, o := range t.ops {
		o := *o
		o.AvgTalkMS = o.TalkMS / int64(o.Handled)
		outO = append(outO, o)
	}
	slices.SortFunc(outO, func(a, b Operator) int { return cmp.Compare(a.OperatorID, b.OperatorID) })
	return outC, outO
}

func count(c *Client, r store.CallRecord) {
	c.Calls++
	if r.Billable {
		c.Billable++
	} else {
		c.NonBillable++
	}
	switch r.Class {
	case store.ClassSales:
		c.Sales++
	case store.ClassWrongNumber:
		c.WrongNumber++
	case store.ClassSilent:
		c.Silent++
	}
	c.MaxWaitMS = max(c.MaxWaitMS, r.WaitMS)
	inTime := time.Duration(r.WaitMS)*time.Millisecond <= AnsweredInTime
	switch r.Result {
	case store.ResultAnswered:
		c.Answered++
		if inTime {
			c.AnsweredInTime++
		}
	case store.ResultTransferred:
		c.Transferred++
		if inTime {
			c.AnsweredInTime++
		}
	case store.ResultAbandoned:
		c.Abandoned++
		if r.WaitMS > 0 {
			c.AbandonedInQueue++
		}
	case store.ResultVoicemail:
		c.Voicemail++
		if r.WaitMS > 0 { // the queue's overflow, not a closed desk's voicemail
			c.OverflowInQueue++
		}
	case store.ResultAfterHours:
		c.AfterHours++
	case store.ResultBlocked:
		c.Blocked++
	case store.ResultOverflow:
		c.Overflow++
		if r.WaitMS > 0 {
			c.OverflowInQueue++
		}
	default:
		c.Other++
		if r.Result == store.ResultFailed && r.WaitMS > 0 {
			c.FailedInQueue++
		}
	}
}
