package controller

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/CyCoreSystems/ari/v6"

	"github.com/toritsugi/toritsugi/pkg/config"
	"github.com/toritsugi/toritsugi/pkg/store"
	"github.com/toritsugi/toritsugi/pkg/store/storetest"
)

const daysConfig = `ari: {user: toritsugi, password: secret}
data_dir: /var/lib/toritsugi
clients:
  - id: acme
    name: ACME
    dids: ["03-1234-5678"]
    greeting: sound:x
    recording_retention_days: 30
operators:
  - {id: op1001, name: 佐藤, endpoint: PJSIP/op1001, clients: ["*"]}
`

// TestRecordingCutoffIsDays: recording_retention_days: 30 is a cut-off
// 30×24 h before now, whatever the host's zone. Sweep gets time.Now()
// (host zone) from Run.
func TestRecordingCutoffIsDays(t *testing.T) {
	cfg, err := config.Parse("t.yaml", []byte(daysConfig), nil)
	if err != nil {
		t.Fatal(err)
	}
	// On a machine whose zone changes its clocks (US daylight saving time
	// ended 2026-11-01), whatever TZ the test runs in.
	la, err := time.LoadLocation("America/Los_Angeles")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 29, 3, 0, 0, 0, time.UTC).In(la)
	r := &Retention{Store: storetest.Open(t), Config: func() *config.Config { return cfg }, Logger: storetest.Logger(t), orphansSwept: now}
	if _, err := r.Sweep(now); err != nil {
		t.Fatal(err)
	}
	if got, want := r.swept["acme"], now.Add(-30*24*time.Hour); !got.Equal(want) {
		t.Fatalf("cut-off %v, want %v (%v off)", got, want, got.Sub(want))
	}
}

// recordingDeletes is an ARI client that only deletes stored recordings,
// and says which.
type recordingDeletes struct {
	ari.Client
	deleted []string
	fail    bool // every delete fails
}

func (d *recordingDeletes) StoredRecording() ari.StoredRecording { return storedDeletes{d} }

// storedDeletes is recordingDeletes' StoredRecording: Delete only.
type storedDeletes struct{ d *recordingDeletes }

func (s storedDeletes) Delete(key *ari.Key) error {
	if s.d.fail {
		return errors.New("Asterisk refused")
	}
	s.d.deleted = append(s.d.deleted, key.ID)
	return nil
}

func (storedDeletes) List(*ari.Key) ([]*ari.Key, error) { return nil, nil }
func (storedDeletes) Get(*ari.Key) *ari.StoredRecordingHandle {
	panic("not used")
}
func (storedDeletes) Data(*ari.Key) (*ari.StoredRecordingData, error) { panic("not used") }
func (storedDeletes) Copy(*ari.Key, string) (*ari.StoredRecordingHandle, error) {
	panic("not used")
}

// TestRetentionGoesOnAfterARestart: the cutoffs of the last complete
// sweeps are kept in the store, so that the first sweep after a start
// reads the calls from there, not every call record ever stored (a year
// of them); a client removed from the configuration while toritsugi was
// stopped still has its calls swept with the removed clients'.
func TestRetentionGoesOnAfterARestart(t *testing.T) {
	cfg, err := config.Parse("t.yaml", []byte(daysConfig), nil)
	if err != nil {
		t.Fatal(err)
	}
	st := storetest.Open(t)
	now := time.Date(2026, 11, 29, 3, 0, 0, 0, time.UTC)
	ari1 := &recordingDeletes{}
	r := &Retention{Store: st, ARI: ari1, Config: func() *config.Config { return cfg }, Logger: storetest.Logger(t), orphansSwept: now}
	if _, err := r.Sweep(now); err != nil {
		t.Fatal(err)
	}
	// A record the sweep before the restart had passed (in a real store
	// its recording would be gone; kept here to see whether it is read).
	old := now.Add(-31 * 24 * time.Hour)
	rec := store.CallRecord{ID: "c-old", ClientID: "acme", DID: "0312345678", CallerID: "09012345678", CallerKind: "number",
		Result: store.ResultAnswered, Reason: "talked", StartedAt: old, EndedAt: old.Add(time.Minute), Recording: "rec-old"}
	if err := st.PutCall(rec); err != nil {
		t.Fatal(err)
	}
	restarted := func(at time.Time) *recordingDeletes {
		d := &recordingDeletes{}
		r := &Retention{Store: st, ARI: d, Config: func() *config.Config { return cfg }, Logger: storetest.Logger(t), orphansSwept: now}
		if _, err := r.Sweep(at); err != nil {
			t.Fatal(err)
		}
		return d
	}
	if d := restarted(now.Add(time.Hour)); len(d.deleted) != 0 {
		t.Fatalf("after a restart the sweep read calls it had passed: deleted %v", d.deleted)
	}
	// acme (30 days) removed while stopped: its calls are swept again
	// from the first, at its own 30 days (shorter than the removed
	// clients' 90): a record stored late, after its sweep had passed its
	// start, goes too.
	gone, err := config.Parse("t.yaml", []byte(strings.Replace(daysConfig, "id: acme", "id: other", 1)), nil)
	if err != nil {
		t.Fatal(err)
	}
	cfg = gone
	rec.ID, rec.StartedAt, rec.EndedAt, rec.Recording = "c-older", now.Add(-91*24*time.Hour), now.Add(-91*24*time.Hour+time.Minute), "rec-older"
	if err := st.PutCall(rec); err != nil {
		t.Fatal(err)
	}
	if d := restarted(now.Add(time.Hour)); !slices.Equal(d.deleted, []string{"rec-older", "rec-old"}) {
		t.Fatalf("after acme's removal deleted %v, want its calls older than its 30 days, the late one too", d.deleted)
	}
	// Swept again only once: the next start reads nothing again.
	if d := restarted(now.Add(2 * time.Hour)); len(d.deleted) != 0 {
		t.Fatalf("the start after deleted %v", d.deleted)
	}
}

// BenchmarkRetentionSweepAfterRestart: the first sweep after a start, with
// 20,000 call records older than the retention (a few months of a small
// service), all swept before the restart.
func BenchmarkRetentionSweepAfterRestart(b *testing.B) {
	cfg, err := config.Parse("t.yaml", []byte(daysConfig), nil)
	if err != nil {
		b.Fatal(err)
	}
	st := storetest.Open(b)
	now := time.Date(2026, 11, 29, 3, 0, 0, 0, time.UTC)
	// Written 100 at a time: one alone waits for its batch's 10 ms.
	var wg sync.WaitGroup
	errs := make(chan error, 100)
	for w := range 100 {
		wg.Go(func() {
			for i := w; i < 20000; i += 100 {
				errs <- putOld(st, now, i)
			}
		})
	}
	go func() { wg.Wait(); close(errs) }()
	for err := range errs {
		if err != nil {
			b.Fatal(err)
		}
	}
	sweep := func() {
		r := &Retention{Store: st, ARI: &recordingDeletes{}, Config: func() *config.Config { return cfg }, Logger: storetest.Logger(b), orphansSwept: now}
		if _, err := r.Sweep(now); err != nil {
			b.Fatal(err)
		}
	}
	sweep() // before the restart
	b.ResetTimer()
	for b.Loop() {
		sweep()
	}
}

// putOld stores the i-th of BenchmarkRetentionSweepAfterRestart's calls,
// 100 days before now and later.
func putOld(st *store.Store, now time.Time, i int) error {
	at := now.Add(-100*24*time.Hour + time.Duration(i)*time.Minute)
	return st.PutCall(store.CallRecord{ID: fmt.Sprintf("c%05d", i), ClientID: "acme", DID: "0312345678", CallerID: "09012345678", CallerKind: "number",
		Result: store.ResultAnswered, Reason: "talked with op1001", OperatorID: "op1001", WaitMS: 12000,
		StartedAt: at, AnsweredAt: at, BridgedAt: at.Add(12 * time.Second), EndedAt: at.Add(3 * time.Minute),
		Events: []store.CallEvent{{At: at, What: "entered Stasis for DID 0312345678"}, {At: at, What: "answered"}, {At: at, What: "queued"},
			{At: at, What: "ringing op1001"}, {At: at, What: "op1001 answered"}, {At: at, What: "bridged with op1001"}, {At: at, What: "ended: answered"}}})
}

// TestRetentionOfAClientRemovedBeforeItsFirstSweep: a client none of
// whose sweeps completed (Asterisk refused every delete) is removed while
// toritsugi is stopped: after the restart its calls are swept with the
// removed clients', from the first.
func TestRetentionOfAClientRemovedBeforeItsFirstSweep(t *testing.T) {
	cfg, err := config.Parse("t.yaml", []byte(daysConfig), nil)
	if err != nil {
		t.Fatal(err)
	}
	st := storetest.Open(t)
	now := time.Date(2026, 11, 29, 3, 0, 0, 0, time.UTC)
	at := now.Add(-100 * 24 * time.Hour)
	if err := st.PutCall(store.CallRecord{ID: "c1", ClientID: "acme", DID: "0312345678", CallerID: "09012345678", CallerKind: "number",
		Result: store.ResultAnswered, Reason: "talked", StartedAt: at, EndedAt: at.Add(time.Minute), Recording: "rec-1"}); err != nil {
		t.Fatal(err)
	}
	r := &Retention{Store: st, ARI: &recordingDeletes{fail: true}, Config: func() *config.Config { return cfg }, Logger: storetest.Logger(t), orphansSwept: now}
	if _, err := r.Sweep(now); err == nil {
		t.Fatal("the refused delete was not reported")
	}
	gone, err := config.Parse("t.yaml", []byte(strings.Replace(daysConfig, "id: acme", "id: other", 1)), nil)
	if err != nil {
		t.Fatal(err)
	}
	d := &recordingDeletes{}
	r = &Retention{Store: st, ARI: d, Config: func() *config.Config { return gone }, Logger: storetest.Logger(t), orphansSwept: now}
	if _, err := r.Sweep(now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(d.deleted, []string{"rec-1"}) {
		t.Fatalf("deleted %v after acme's removal, want its 100-day-old recording", d.deleted)
	}
}

// unwritableDays is the store with its write of the clients' retention
// days failing while fail is set, as on a full disk (bbolt fails no
// single write on demand); the rest works. It counts the writes tried.
type unwritableDays struct {
	*store.Store
	fail   bool
	writes int
}

func (u *unwritableDays) SetRetentionDays(days map[string]store.ClientRetention) error {
	u.writes++
	if u.fail {
		return fmt.Errorf("store: set retention days: write toritsugi.db: %w", syscall.ENOSPC)
	}
	return u.Store.SetRetentionDays(days)
}

// TestRetentionDaysWriteFails: the write of the clients' retention days
// fails (a full disk). The sweep goes on with the days it has in memory
// (the configured client's due recordings go; a client removed meanwhile
// has its own shorter days), says so in the log and writes them again at
// every sweep until it works; a restart after that keeps the removed
// client's days.
func TestRetentionDaysWriteFails(t *testing.T) {
	cfg, err := config.Parse("t.yaml", []byte(daysConfig), nil)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 29, 3, 0, 0, 0, time.UTC)
	st := storetest.Open(t)
	put := func(id string, age time.Duration) {
		t.Helper()
		at := now.Add(-age)
		if err := st.PutCall(store.CallRecord{ID: id, ClientID: "acme", DID: "0312345678", CallerID: "09012345678", CallerKind: "number",
			Result: store.ResultAnswered, Reason: "talked", StartedAt: at, EndedAt: at.Add(time.Minute), Recording: "rec-" + id}); err != nil {
			t.Fatal(err)
		}
	}
	const day = 24 * time.Hour
	put("c40", 40*day) // due at acme's 30 days
	put("c29", 29*day) // due two days later, at 30 days; at 90 not
	var logs bytes.Buffer
	failing := &unwritableDays{Store: st, fail: true}
	d := &recordingDeletes{}
	r := &Retention{Store: failing, ARI: d, Config: func() *config.Config { return cfg },
		Logger: slog.New(slog.NewTextHandler(io.MultiWriter(&logs, t.Output()), nil)), orphansSwept: now}
	warned := func() int { return strings.Count(logs.String(), "the clients' recording retention could not be kept") }
	stored := func() map[string]store.ClientRetention {
		t.Helper()
		days, err := st.RetentionDays()
		if err != nil {
			t.Fatal(err)
		}
		return days
	}

	// The write fails: the due recording goes all the same, the failure
	// is logged with its cause, the store holds no days.
	if _, err := r.Sweep(now); err != nil {
		t.Fatalf("sweep: %v (a failed write of the days is logged, not the sweep's error)", err)
	}
	if !slices.Equal(d.deleted, []string{"rec-c40"}) || warned() != 1 || !strings.Contains(logs.String(), "no space left on device") || len(stored()) != 0 {
		t.Fatalf("first sweep: deleted %v, %d warnings, stored %v; log:\n%s", d.deleted, warned(), stored(), logs.String())
	}
	// Tried again at the next sweep, though nothing changed meanwhile.
	if _, err := r.Sweep(now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if failing.writes != 2 || warned() != 2 {
		t.Fatalf("second sweep: %d writes, %d warnings; want the write tried again", failing.writes, warned())
	}
	// acme removed, the write still failing: its recordings go at its own
	// 30 days, kept in memory, not the removed clients' 90.
	gone, err := config.Parse("t.yaml", []byte(strings.Replace(daysConfig, "id: acme", "id: other", 1)), nil)
	if err != nil {
		t.Fatal(err)
	}
	cfg = gone
	put("late", 35*day) // stored late, after acme's sweep had passed its start
	if _, err := r.Sweep(now.Add(2 * time.Hour)); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(d.deleted, []string{"rec-c40", "rec-late"}) || len(stored()) != 0 {
		t.Fatalf("after acme's removal: deleted %v, stored %v", d.deleted, stored())
	}
	// The disk has room again: the next sweep writes the days.
	failing.fail = false
	if _, err := r.Sweep(now.Add(3 * time.Hour)); err != nil {
		t.Fatal(err)
	}
	want := map[string]store.ClientRetention{"acme": {Days: 30, Removed: true, RemovedAt: now.Add(2 * time.Hour)}, "other": {Days: 30}}
	if got := stored(); !maps.Equal(got, want) || warned() != 3 {
		t.Fatalf("once writes work: stored %v, %d warnings; want %v, no new warning", got, warned(), want)
	}
	// A restart reads them: acme's other recording goes at its 30 days.
	d2 := &recordingDeletes{}
	r = &Retention{Store: st, ARI: d2, Config: func() *config.Config { return cfg }, Logger: storetest.Logger(t), orphansSwept: now}
	if _, err := r.Sweep(now.Add(2 * day)); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(d2.deleted, []string{"rec-c29"}) {
		t.Fatalf("after the restart deleted %v, want acme's 30-day-old recording", d2.deleted)
	}
}
