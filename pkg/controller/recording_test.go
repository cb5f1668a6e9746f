package controller_test

// Conversation recordings: names, failures, retention.

import (
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/toritsugi/toritsugi/pkg/aritest"
	"github.com/toritsugi/toritsugi/pkg/call"
	"github.com/toritsugi/toritsugi/pkg/config"
	"github.com/toritsugi/toritsugi/pkg/controller"
	"github.com/toritsugi/toritsugi/pkg/phone"
	"github.com/toritsugi/toritsugi/pkg/store"
	"github.com/toritsugi/toritsugi/pkg/store/storetest"
)

func TestRecordingRetention(t *testing.T) {
	h := newHarness(t, strings.Replace(oneClient, "    record: true\n", "    record: true\n    recording_retention_days: 90\n", 1))
	h.retention = true
	h.fake.AddEndpoint("PJSIP/op1001", true, answers)
	h.fake.AddEndpoint("PJSIP/op1002", false, answers)
	r := h.start()
	id := h.call("0312345678", "0901234567")
	rec := h.record(id)
	// The name says whose it is: the deployment, then the controller's
	// instance.
	if want := strings.ReplaceAll(id, ".", "-") + "-" + testDeployment + "-"; !strings.HasPrefix(rec.Recording, want) {
		t.Fatalf("recording %q on %+v, want %s<instance>", rec.Recording, rec, want)
	}
	stored := func() int {
		keys, err := r.c.Link.Client().StoredRecording().List(nil)
		if err != nil {
			t.Fatal(err)
		}
		return len(keys)
	}
	h.eventually("recording stored", func() bool { return stored() == 1 })
	ret := &controller.Retention{Store: h.store, ARI: r.c.Link.Client(), Config: func() *config.Config { return h.cfg }, Logger: storetest.Logger(t)}
	if n, err := ret.Sweep(rec.StartedAt.AddDate(0, 0, 89)); err != nil || n != 0 {
		t.Fatalf("sweep at 89 days deleted %d (%v), want 0", n, err)
	}
	if n, err := ret.Sweep(rec.StartedAt.AddDate(0, 0, 91)); err != nil || n != 1 {
		t.Fatalf("sweep at 91 days deleted %d (%v), want 1", n, err)
	}
	if stored() != 0 {
		t.Fatal("the stored recording is still in Asterisk")
	}
	after, _ := h.store.Call(id)
	if after.Recording != "" || !strings.Contains(fmt.Sprint(after.Events), "deleted after 90 days") {
		t.Fatalf("record after the sweep: recording %q, events %v", after.Recording, after.Events)
	}
	if n, err := ret.Sweep(rec.StartedAt.AddDate(0, 0, 92)); err != nil || n != 0 {
		t.Fatalf("second sweep deleted %d (%v), want 0", n, err)
	}
}

// TestRecordingRequestTimesOut: Asterisk, under load, answers the bridge
// recording's request after the controller gave up on it, having started
// the recording before the controller gave up or only after. The record
// used to name none, and the retention, going by records, never deleted
// it: it is named either way.
func TestRecordingRequestTimesOut(t *testing.T) {
	for _, tc := range []struct {
		name string
		late bool // Asterisk runs the request after the controller gave up
	}{{"started before the timeout", false}, {"started after the timeout", true}} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, oneClient)
			// The operator talks until the caller hangs up, once the
			// request reached the fake however late.
			h.fake.AddEndpoint("PJSIP/op1001", true, aritest.EndpointBehavior{Answer: aritest.AnswerAfter, Delay: time.Second, HangupAfter: time.Hour})
			h.fake.AddEndpoint("PJSIP/op1002", false, answers)
			fakeURL := h.fake.URL()
			forwarded := make(chan struct{})
			h.intercept(func(w http.ResponseWriter, r *http.Request) bool {
				if r.Method != http.MethodPost || !strings.HasPrefix(r.URL.Path, "/ari/bridges/") || !strings.HasSuffix(r.URL.Path, "/record") {
					return false
				}
				body, _ := io.ReadAll(r.Body)
				forward := func() {
					req, _ := http.NewRequest(http.MethodPost, fakeURL+strings.TrimPrefix(r.URL.Path, "/ari")+"?"+r.URL.RawQuery, strings.NewReader(string(body)))
					req.Header = r.Header.Clone()
					if resp, err := http.DefaultClient.Do(req); err == nil {
						resp.Body.Close()
					}
				}
				if !tc.late {
					forward()
				}
				time.Sleep(2200 * time.Millisecond) // the controller's RequestTimeout is 2 s
				if tc.late {
					forward()
				}
				close(forwarded)
				w.WriteHeader(http.StatusCreated)
				return true
			})
			r := h.start()
			id := h.call("0312345678", "0901234567")
			select {
			case <-forwarded:
			case <-time.After(10 * time.Second):
				t.Fatal("the recording's request never came")
			}
			if err := h.fake.RemoteHangup(id); err != nil {
				t.Fatal(err)
			}
			rec := h.record(id)
			if rec.Result != store.ResultAnswered {
				t.Fatalf("record %s (%s), want answered", rec.Result, rec.Reason)
			}
			keys, err := r.c.Link.Client().StoredRecording().List(nil)
			if err != nil {
				t.Fatal(err)
			}
			if len(keys) != 1 || rec.Recording != keys[0].ID {
				t.Fatalf("record names recording %q, Asterisk stored %v", rec.Recording, keys)
			}
		})
	}
}

// TestRecordingNamedByNoRecord: a store restored from a backup has no
// record of the calls made after it, nor of their recordings, which the
// retention, going by records, kept for ever. Once past the longest
// retention of any client (the default 90 days here, and a day more),
// the recordings this deployment's calls made are deleted all the same;
// one named otherwise (another toritsugi's on the same Asterisk, one made
// before names said whose, anything else) is never touched, and with a
// client keeping recordings a year nothing goes at 92 days.
func TestRecordingNamedByNoRecord(t *testing.T) {
	made := time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)
	id := func(n int) string { return fmt.Sprintf("%d.%d", made.Unix(), n) }
	for _, tc := range []struct {
		name  string
		days  string
		after int  // days after the recordings were made
		gone  bool // this deployment's old recordings deleted
	}{
		{"past every retention", "", 92, true},
		{"a client keeps them a year", "    recording_retention_days: 365\n", 92, false},
		{"within the retention and its day more", "", 90, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, strings.Replace(oneClient, "    record: true\n", "    record: true\n"+tc.days, 1))
			tag := testDeployment + "-0a1b2c3d"
			ours := []string{call.RecordingName(id(1), false, tag), call.RecordingName(id(2), true, tag), call.RecordingName("pbx1-"+id(3), false, tag)}
			theirs := []string{
				"monitor-" + id(4), call.RecordingName(id(5), false, "0a1b2c3d"), // named before names said whose
				call.RecordingName(id(6), false, "0badbeef-0a1b2c3d"), // another deployment's
				call.RecordingName(fmt.Sprintf("%d.7", made.AddDate(0, 0, 80).Unix()), false, tag),
			}
			var gone []string
			if tc.gone {
				gone = ours
			}
			for _, n := range append(append([]string(nil), ours...), theirs...) {
				h.fake.AddStoredRecording(n, "wav")
			}
			r := h.start()
			ret := &controller.Retention{Store: h.store, ARI: r.c.Link.Client(), Config: func() *config.Config { return h.cfg }, Deployment: testDeployment, Logger: storetest.Logger(t)}
			n, err := ret.Sweep(made.AddDate(0, 0, tc.after).Add(time.Minute))
			if err != nil || n != len(gone) {
				t.Fatalf("sweep deleted %d (%v), want %d", n, err, len(gone))
			}
			keys, err := r.c.Link.Client().StoredRecording().List(nil)
			if err != nil {
				t.Fatal(err)
			}
			left := map[string]bool{}
			for _, k := range keys {
				left[k.ID] = true
			}
			for _, n := range append(append([]string(nil), ours...), theirs...) {
				if want := !slices.Contains(gone, n); left[n] != want {
					t.Errorf("recording %s kept %v, want %v", n, left[n], want)
				}
			}
		})
	}
}

// TestRecordingRetentionOfARemovedClient: a client kept recordings a year;
// once it is removed from the configuration, its recordings are kept the
// default 90 days, not forever.
func TestRecordingRetentionOfARemovedClient(t *testing.T) {
	h, r, rec := recordedCall(t, 365, "0901234567")
	cfg := h.cfg
	ret := &controller.Retention{Store: h.store, ARI: r.c.Link.Client(), Config: func() *config.Config { return cfg }, Logger: storetest.Logger(t)}
	if n, err := ret.Sweep(rec.StartedAt.AddDate(0, 0, 100)); err != nil || n != 0 {
		t.Fatalf("sweep at 100 days, the client keeping a year: deleted %d (%v), want 0", n, err)
	}
	cfg = withoutAcme(t, h)
	if n, err := ret.Sweep(rec.StartedAt.AddDate(0, 0, 101)); err != nil || n != 1 {
		t.Fatalf("sweep at 101 days, the client removed: deleted %d (%v), want 1", n, err)
	}
	if after, _ := h.store.Call(rec.ID); after.Recording != "" || !strings.Contains(fmt.Sprint(after.Events), "deleted after 90 days") {
		t.Fatalf("record after the sweep: recording %q, events %v", after.Recording, after.Events)
	}
}

// recordingFailure is how Asterisk fails a conversation's recording.
type recordingFailure struct {
	name string
	fail func(*harness) // before the controller starts
	why  string         // what the record says
}

var recordingFailures = []recordingFailure{
	// Taken (201), then RecordingFailed: a full disk.
	{"failed", func(h *harness) { h.fake.FailRecordings("disk full") }, "the conversation could not be recorded: disk full"},
	// The request refused (500, as Asterisk answers when the recording
	// cannot be set up).
	{"refused", func(h *harness) {
		h.failThrough(func(r *http.Request) bool {
			return r.Method == http.MethodPost && strings.Contains(r.URL.Path, "/bridges/") && strings.HasSuffix(r.URL.Path, "/record")
		})
	}, "the conversation could not be recorded: Non-2XX response: 500 Internal Server Error"},
}

// TestConversationRecordingFails: Asterisk cannot record the conversation
// (a full disk): the call goes on, answered, and its record names no
// recording (it would point at a file that does not exist) but says why.
func TestConversationRecordingFails(t *testing.T) {
	for _, f := range recordingFailures {
		t.Run(f.name, func(t *testing.T) {
			h := newHarness(t, oneClient)
			h.fake.AddEndpoint("PJSIP/op1001", true, answers)
			f.fail(h)
			h.start()
			rec := h.record(h.call("0312345678", "0901234567"))
			if rec.Result != store.ResultAnswered || rec.Recording != "" || !strings.Contains(fmt.Sprint(rec.Events), f.why) {
				t.Fatalf("a conversation that could not be recorded: %+v", rec)
			}
		})
	}
}

// TestConversationRecordingFailsThenRestart: Asterisk cannot record the
// conversation (a full disk, or the request refused) and the controller
// then stops. The state it kept in the store names no recording, so that
// the next controller's record does not name one (the retention would
// take the missing file as deleted, a client looking for it would find
// none), and says why, whether the call goes on after the restart or the
// caller hung up while no controller watched.
func TestConversationRecordingFailsThenRestart(t *testing.T) {
	type restartCase struct {
		name        string
		failure     recordingFailure
		hangUpFirst bool // the caller hangs up while no controller runs
		want        string
	}
	var cases []restartCase
	for _, f := range recordingFailures {
		cases = append(cases,
			restartCase{f.name + ", talking on after the restart", f, false, "re-adopted after controller restart at step connected"},
			restartCase{f.name + ", ended while no controller watched", f, true, "ended while no controller watched"})
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, oneClient)
			h.fake.AddEndpoint("PJSIP/op1001", true, aritest.EndpointBehavior{Answer: aritest.AnswerAfter, Delay: time.Second, HangupAfter: 60 * time.Second})
			tc.failure.fail(h)
			first := h.start()
			id := h.call("0312345678", "0901234567")
			h.eventually("the connected state kept without the failed recording", func() bool {
				live, _, err := h.store.LiveCalls()
				return err == nil && strings.Contains(live[id], "&s=connected&") && !strings.Contains(live[id], "&r=")
			})
			first.stop()
			if tc.hangUpFirst {
				if err := h.fake.RemoteHangup(id); err != nil {
					t.Fatal(err)
				}
			}
			second := h.start()
			rec := h.record(id)
			events := fmt.Sprint(rec.Events)
			if rec.Result != store.ResultAnswered || rec.OperatorID != "op1001" || rec.Recording != "" || !strings.Contains(events, tc.want) ||
				!strings.Contains(events, tc.failure.why) {
				t.Fatalf("record after the restart: %s (%s) op %q, recording %q, events %v", rec.Result, rec.Reason, rec.OperatorID, rec.Recording, rec.Events)
			}
			if n := storedRecordings(t, second); n != 0 {
				t.Fatalf("%d recordings stored in Asterisk, want none", n)
			}
		})
	}
}

// TestRetentionDeletesWhatAnErasureLeft: an erasure could not delete a
// caller's recording (Asterisk unreachable); its record, erased, no
// longer names the caller, and the recording was left to the client's
// retention (up to 100 years). The hourly sweep deletes it, whatever the
// retention, and notes it in the record.
func TestRetentionDeletesWhatAnErasureLeft(t *testing.T) {
	h, r, rec := recordedCall(t, 3650, "09012345678")
	id := rec.ID
	stored := func() int { return storedRecordings(t, r) }
	h.eventually("recording stored", func() bool { return stored() == 1 })
	// The erasure, Asterisk's delete failing: nothing deleted.
	if f, err := h.store.ForgetCaller(phone.ParseCallerID(rec.CallerID).E164, nil); err != nil || len(f.RecordingsKept) != 1 {
		t.Fatalf("erasure: %+v (%v), want the recording kept", f, err)
	}
	if left, err := h.store.ErasedRecordingsLeft(); err != nil || left[rec.Recording] != id {
		t.Fatalf("left %v (%v), want %s of %s", left, err, rec.Recording, id)
	}
	ret := &controller.Retention{Store: h.store, ARI: r.c.Link.Client(), Config: func() *config.Config { return h.cfg }, Logger: storetest.Logger(t)}
	if n, err := ret.Sweep(rec.StartedAt.Add(time.Hour)); err != nil || n != 1 {
		t.Fatalf("sweep deleted %d (%v), want the recording the erasure left", n, err)
	}
	if stored() != 0 {
		t.Fatal("the erased caller's recording is still in Asterisk")
	}
	after, _ := h.store.Call(id)
	if after.Recording != "" || after.CallerID != "" || !strings.Contains(fmt.Sprint(after.Events), "deleted (erasure)") {
		t.Fatalf("record after the sweep: recording %q, caller %q, events %v", after.Recording, after.CallerID, after.Events)
	}
	if left, _ := h.store.ErasedRecordingsLeft(); len(left) != 0 {
		t.Fatalf("still listed as left: %v", left)
	}
}

// TestRemovedClientKeepsItsShorterRetention: a client that keeps its
// recordings 7 days is removed (its contract ended) on day 4: its
// recording was kept to the removed clients' 90 days, past what its
// callers were told. It goes at the client's own 7, also when the sweep
// runs in a controller started after the removal; a client whose own is
// longer than 90 days goes at 90, as before.
func TestRemovedClientKeepsItsShorterRetention(t *testing.T) {
	for _, tc := range []struct {
		name              string
		days              int
		restart           bool
		deletedOn, keptOn int
	}{
		{"7 days", 7, false, 30, 0},
		{"7 days, swept after a restart", 7, true, 30, 0},
		{"365 days", 365, false, 91, 89},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h, r, rec := recordedCall(t, tc.days, "0901234567")
			cfg := h.cfg
			ret := &controller.Retention{Store: h.store, ARI: r.c.Link.Client(), Config: func() *config.Config { return cfg }, Logger: storetest.Logger(t)}
			if n, err := ret.Sweep(rec.StartedAt.AddDate(0, 0, 3)); err != nil || n != 0 {
				t.Fatalf("day 3: deleted %d (%v)", n, err)
			}
			cfg = withoutAcme(t, h)
			if tc.restart {
				ret = &controller.Retention{Store: h.store, ARI: r.c.Link.Client(), Config: func() *config.Config { return cfg }, Logger: storetest.Logger(t)}
			}
			if tc.keptOn > 0 {
				if n, err := ret.Sweep(rec.StartedAt.AddDate(0, 0, tc.keptOn)); err != nil || n != 0 {
					t.Fatalf("day %d: deleted %d (%v), want it kept", tc.keptOn, n, err)
				}
			}
			if n, err := ret.Sweep(rec.StartedAt.AddDate(0, 0, tc.deletedOn)); err != nil || n != 1 {
				t.Fatalf("day %d, the client (%d days) removed on day 4: deleted %d (%v), want its recording", tc.deletedOn, tc.days, n, err)
			}
		})
	}
}

// recordedCall runs a controller for a client recording its calls and
// keeping them days, and returns a call's record once the call has
// ended, recorded.
func recordedCall(t *testing.T, days int, caller string) (*harness, *running, store.CallRecord) {
	t.Helper()
	h := newHarness(t, strings.Replace(oneClient, "    record: true\n", fmt.Sprintf("    record: true\n    recording_retention_days: %d\n", days), 1))
	h.fake.AddEndpoint("PJSIP/op1001", true, answers)
	h.fake.AddEndpoint("PJSIP/op1002", false, answers)
	r := h.start()
	rec := h.record(h.call("0312345678", caller))
	if rec.Recording == "" {
		t.Fatalf("no recording on %+v", rec)
	}
	return h, r, rec
}

// withoutAcme is h's configuration with client acme removed (another in
// its place).
func withoutAcme(t *testing.T, h *harness) *config.Config {
	t.Helper()
	cfg, err := config.Parse("test.yaml", []byte(fmt.Sprintf("ari: {url: %s, user: toritsugi, password: toritsugi}\ndata_dir: /nonexistent\n%s",
		h.fake.URL(), strings.Replace(oneClient, "id: acme", "id: other", 1))), nil)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// storedRecordings counts the recordings Asterisk keeps.
func storedRecordings(t *testing.T, r *running) int {
	t.Helper()
	keys, err := r.c.Link.Client().StoredRecording().List(nil)
	if err != nil {
		t.Fatal(err)
	}
	return len(keys)
}
