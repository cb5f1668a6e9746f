package api

import (
	"maps"
	"net/http"
	"slices"
	"time"

	"github.com/toritsugi/toritsugi/pkg/phone"
	"github.com/toritsugi/toritsugi/pkg/relay"
	"github.com/toritsugi/toritsugi/pkg/store"
)

// messageIDs are the relay's message ids of what d holds of a caller:
// every version of their messages, and their calls' notices.
func messageIDs(d store.CallerData) []string {
	var ids []string
	for id, v := range d.Intakes {
		for i := 1; i <= v; i++ {
			ids = append(ids, relay.IntakeMessageID(id, i))
		}
	}
	for _, c := range d.Calls {
		ids = append(ids, relay.NoticeMessageIDs(c)...)
	}
	return ids
}

// forgotten is what POST /api/v1/callers/forget erased, and where copies
// went that toritsugi cannot erase.
type forgotten struct {
	Number       string `json:"number"`
	Messages     int    `json:"messages"`
	Calls        int    `json:"calls"`
	Callbacks    int    `json:"callbacks"`
	RelayEntries int    `json:"relay_entries"`
	// SentTo are the destinations the erased messages and notices were
	// delivered to: the copies there are the clients' to erase.
	SentTo []string `json:"sent_to"`
	// MaybeSentTo had a copy on its way (pending): its send may have been
	// under way as it was erased.
	MaybeSentTo []string `json:"maybe_sent_to"`
	// Recordings are those of the caller's calls deleted from Asterisk;
	// RecordingsLeft those it could not delete (or none deletes: no
	// Asterisk link), still named by their records and deleted by the
	// recording retention, or by hand.
	Recordings     []string `json:"recordings"`
	RecordingsLeft []string `json:"recordings_left"`
	// EarlierRecordingsDeleted and EarlierRecordingsLeft are other
	// callers' recordings earlier erasures had left, tried again with this
	// request: deleted now, or left still.
	EarlierRecordingsDeleted []string `json:"earlier_recordings_deleted"`
	EarlierRecordingsLeft    []string `json:"earlier_recordings_left"`
}

// forgetCaller: POST /api/v1/callers/forget?number=N erases a caller on
// their request (個人情報の消去請求): the relay outbox's copies of their
// messages and notices first (saying which destinations had them
// delivered: the clients' to erase), then their calls' recordings in
// Asterisk, then in the store their messages with every version, their
// callback requests, and their number in their calls' records (kept,
// blanked, for billing). Their number in any spelling (03-1234-5678,
// 0312345678, +81312345678), found in any spelling it was stored in. An
// erasure cut short (a 500) is finished by asking again.
func (d Deps) forgetCaller(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if err := knownParams(q, "number"); err != nil {
		writeJSON(w, http.StatusBadRequest, errorBody{Error: err.Error()})
		return
	}
	cid := phone.ParseCallerID(q.Get("number"))
	if cid.Kind != phone.Number {
		writeJSON(w, http.StatusBadRequest, errorBody{Error: "number: a caller's phone number (03-1234-5678, +81312345678)"})
		return
	}
	masked := phone.Masked(cid.E164)
	defer d.Calls.BeginErasure(cid.E164)()
	partly := func(what string, err error) {
		d.Logger.Error("forget caller: "+what, "number", masked, "error", err)
		writeJSON(w, http.StatusInternalServerError, errorBody{Error: what + " failed: erased in part; ask again to finish"})
	}
	found, err := d.Calls.CallerData(cid.E164)
	if err != nil {
		partly("reading the store", err)
		return
	}
	if len(found.Live) > 0 {
		// Their call's record is written, with the number, when it ends.
		w.Header().Set("Retry-After", "60")
		writeJSON(w, http.StatusConflict, errorBody{Error: "the caller is on a call now: ask again when it has ended"})
		return
	}
	out := forgotten{Number: cid.Display(), SentTo: []string{}, MaybeSentTo: []string{}, Recordings: []string{}, RecordingsLeft: []string{},
		EarlierRecordingsDeleted: []string{}, EarlierRecordingsLeft: []string{}}
	if d.Outbox != nil {
		ids := messageIDs(found)
		sent, maybe := map[string]bool{}, map[string]bool{}
		for _, id := range ids {
			es, err := d.Outbox.List(relay.Filter{MessageID: id})
			if err != nil {
				partly("reading the relay outbox", err)
				return
			}
			for _, e := range es {
				switch e.State {
				case relay.StateDelivered:
					sent[e.Destination] = true
				case relay.StatePending:
					// Its send may be on its way as it is erased.
					maybe[e.Destination] = true
				}
			}
		}
		if out.RelayEntries, err = d.Outbox.Forget(ids); err != nil {
			partly("erasing the relay outbox's copies", err)
			return
		}
		for dest := range sent {
			out.SentTo = append(out.SentTo, dest)
		}
		for dest := range maybe {
			if !sent[dest] {
				out.MaybeSentTo = append(out.MaybeSentTo, dest)
			}
		}
		slices.Sort(out.SentTo)
		slices.Sort(out.MaybeSentTo)
	}
	linkUp := d.LinkUp == nil || d.LinkUp()
	for _, name := range found.Recordings {
		// Not tried while the ARI link is down (each would wait for its
		// timeout): left, and tried again later.
		if linkUp && d.DeleteRecording != nil && d.DeleteRecording(name) == nil {
			out.Recordings = append(out.Recordings, name)
		} else {
			out.RecordingsLeft = append(out.RecordingsLeft, name)
		}
	}
	f, err := d.Calls.ForgetCaller(cid.E164, out.Recordings)
	out.Messages, out.Calls, out.Callbacks = len(f.Intakes), len(f.Calls), len(f.Callbacks)
	if err != nil {
		partly("erasing the store's data", err)
		return
	}
	// What was stored for them meanwhile (a message saved, a call ended,
	// while the copies and recordings went): its copies go too, and its
	// recordings, named still, are said left.
	if d.Outbox != nil {
		n, err := d.Outbox.Forget(messageIDs(f))
		out.RelayEntries += n
		if err != nil {
			partly("erasing the relay outbox's copies", err)
			return
		}
	}
	for _, name := range f.RecordingsKept {
		if !slices.Contains(out.RecordingsLeft, name) {
			out.RecordingsLeft = append(out.RecordingsLeft, name)
		}
	}
	// This caller is erased: their screen pops go before anything else
	// can fail.
	if d.OnForget != nil {
		d.OnForget(cid.E164)
	}
	d.retryLeftRecordings(&out, slices.Concat(found.Recordings, f.RecordingsKept))
	d.Logger.Info("caller erased on request", "number", masked, "messages", out.Messages, "calls", out.Calls,
		"callbacks", out.Callbacks, "relay_entries", out.RelayEntries, "recordings", len(out.Recordings), "recordings_left", len(out.RecordingsLeft))
	writeJSON(w, http.StatusOK, out)
}

// retryLeftRecordings tries again to delete the recordings earlier
// erasures could not delete: their records, erased, no longer say whose
// they were, so that asking again for a number would not find them (the
// recording retention's hourly sweep tries too). Not while the ARI link
// is down (each try would wait for its timeout), nor those of this
// request's caller (theirs, in mine, were tried a moment ago, and are
// said in out's own fields); the others are said apart, as earlier
// erasures' (out.EarlierRecordings*).
func (d Deps) retryLeftRecordings(out *forgotten, mine []string) {
	left, err := d.Calls.ErasedRecordingsLeft()
	if err != nil {
		d.Logger.Error("forget caller: reading the recordings erasures left", "error", err)
		return
	}
	linkUp := d.LinkUp == nil || d.LinkUp()
	for _, name := range slices.Sorted(maps.Keys(left)) {
		if slices.Contains(mine, name) {
			continue
		}
		if !linkUp || d.DeleteRecording == nil || d.DeleteRecording(name) != nil {
			out.EarlierRecordingsLeft = append(out.EarlierRecordingsLeft, name)
			continue
		}
		if err := d.Calls.RecordingDeleted(left[name], name, store.CallEvent{At: time.Now(), What: "recording " + name + " deleted (erasure)"}); err != nil {
			d.Logger.Error("forget caller: noting a recording deleted", "recording", name, "error", err)
			out.EarlierRecordingsLeft = append(out.EarlierRecordingsLeft, name) // listed still: the next try notes it
			continue
		}
		out.EarlierRecordingsDeleted = append(out.EarlierRecordingsDeleted, name)
	}
}
