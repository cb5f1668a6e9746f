package relay

import (
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

func TestEnqueueIdempotent(t *testing.T) {
	ob := newOutbox(t, openDB(t, ""), newFakeClock(), OutboxOptions{})
	m := testMessage("m-1")
	ids, err := ob.Enqueue(m, []string{"mail", "slack"})
	if err != nil || !slices.Equal(ids, []string{"m-1/mail", "m-1/slack"}) {
		t.Fatalf("Enqueue = %v, %v", ids, err)
	}
	m.Subject = "changed"
	ids, err = ob.Enqueue(m, []string{"slack", "mail", "teams"})
	if err != nil || !slices.Equal(ids, []string{"m-1/teams"}) {
		t.Fatalf("second Enqueue = %v, %v; want only the new destination", ids, err)
	}
	all, err := ob.List(Filter{})
	if err != nil || len(all) != 3 {
		t.Fatalf("List = %d entries (%v), want 3", len(all), err)
	}
	for _, e := range all {
		if e.State != StatePending || e.Attempts != 0 || e.MessageID != "m-1" {
			t.Errorf("entry %+v, want pending with no attempts", e)
		}
		if e.Destination != "teams" && e.Message.Subject == "changed" {
			t.Errorf("entry %s was overwritten by the second enqueue", e.ID)
		}
	}
}

func TestEnqueueRejectsBadInput(t *testing.T) {
	ob := newOutbox(t, openDB(t, ""), newFakeClock(), OutboxOptions{})
	tests := []struct {
		name  string
		m     Message
		dests []string
	}{
		{"empty id", Message{}, []string{"mail"}},
		{"empty destination", testMessage("m"), []string{""}},
		{"slash in destination", testMessage("m"), []string{"a/b"}},
	}
	for _, tt := range tests {
		if _, err := ob.Enqueue(tt.m, tt.dests); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: Enqueue = %v, want ErrInvalid", tt.name, err)
		}
	}
}

func TestListFilter(t *testing.T) {
	ob := newOutbox(t, openDB(t, ""), newFakeClock(), OutboxOptions{MaxAttempts: 1})
	a, b := testMessage("a"), testMessage("b")
	b.ClientID = "c-002"
	// Ids that a message id "a" is a prefix of: listing "a" must not
	// return their entries.
	ab, aSlash := testMessage("ab"), testMessage("a/x")
	for _, m := range []Message{a, b, ab, aSlash} {
		if _, err := ob.Enqueue(m, []string{"mail", "slack"}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := ob.record("a/slack", errors.New("boom")); err != nil {
		t.Fatal(err)
	}
	if _, err := ob.record("b/mail", nil); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		f    Filter
		want []string
	}{
		{Filter{}, []string{"a/mail", "a/x/mail", "a/x/slack", "ab/mail", "ab/slack", "b/mail", "b/slack", "a/slack"}},
		{Filter{State: StateDead}, []string{"a/slack"}},
		{Filter{State: StateDelivered}, []string{"b/mail"}},
		{Filter{State: StatePending}, []string{"a/mail", "a/x/mail", "a/x/slack", "ab/mail", "ab/slack", "b/slack"}},
		{Filter{ClientID: "c-002"}, []string{"b/mail", "b/slack"}},
		{Filter{MessageID: "a"}, []string{"a/mail", "a/slack"}},
		{Filter{MessageID: "a/x"}, []string{"a/x/mail", "a/x/slack"}},
		{Filter{MessageID: "a", Destination: "mail"}, []string{"a/mail"}},
		{Filter{MessageID: "a", Limit: 1}, []string{"a/mail"}},
		{Filter{Limit: 2}, []string{"a/mail", "a/x/mail"}},
	}
	// The same outbox for monitoring: six pending, one dead.
	if st, err := ob.Stats(); err != nil || st.Pending != 6 || st.Dead != 1 || st.OldestPending.IsZero() {
		t.Fatalf("Stats() = %+v, %v; want 6 pending (with the oldest's time), 1 dead", st, err)
	}
	for _, tt := range tests {
		got, err := ob.List(tt.f)
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, e := range got {
			ids = append(ids, e.ID)
		}
		if !slices.Equal(ids, tt.want) {
			t.Errorf("List(%+v) = %v, want %v", tt.f, ids, tt.want)
		}
	}
}

func TestRecordBackoffAndDeadLetter(t *testing.T) {
	clock := newFakeClock()
	ob := newOutbox(t, openDB(t, ""), clock, OutboxOptions{})
	if _, err := ob.Enqueue(testMessage("m"), []string{"hook"}); err != nil {
		t.Fatal(err)
	}
	want := []time.Duration{10 * time.Second, time.Minute, 5 * time.Minute, 30 * time.Minute,
		2 * time.Hour, 6 * time.Hour, 12 * time.Hour}
	for i, d := range want {
		e, err := ob.record("m/hook", errors.New("HTTP 503"))
		if err != nil {
			t.Fatal(err)
		}
		if e.State != StatePending || e.Attempts != i+1 || !e.NextAt.Equal(clock.Now().Add(d)) {
			t.Fatalf("attempt %d: %+v, want pending, next in %v", i+1, e, d)
		}
	}
	e, err := ob.record("m/hook", errors.New("HTTP 503 again"))
	if err != nil {
		t.Fatal(err)
	}
	if e.State != StateDead || e.Attempts != DefaultMaxAttempts || e.LastError != "HTTP 503 again" {
		t.Fatalf("after %d attempts: %+v, want dead with the last error", DefaultMaxAttempts, e)
	}
	// Dead letters still count for idempotency.
	if ids, err := ob.Enqueue(testMessage("m"), []string{"hook"}); err != nil || len(ids) != 0 {
		t.Errorf("re-enqueue of a dead entry = %v, %v; want no-op", ids, err)
	}
	if err := ob.Retry("m/hook"); err != nil {
		t.Fatalf("Retry: %v", err)
	}
	got, err := ob.Get("m/hook")
	if err != nil || got.State != StatePending || got.Attempts != 0 || got.NextAt.After(clock.Now()) {
		t.Errorf("after Retry: %+v (%v), want pending and due", got, err)
	}
	if err := ob.Retry("m/hook"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Retry of a pending entry = %v, want ErrNotFound", err)
	}
	if _, err := ob.Get("nope/x"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Get unknown = %v, want ErrNotFound", err)
	}
}

func TestRecordNeverUndoesDelivery(t *testing.T) {
	ob := newOutbox(t, openDB(t, ""), newFakeClock(), OutboxOptions{})
	if _, err := ob.Enqueue(testMessage("m"), []string{"hook"}); err != nil {
		t.Fatal(err)
	}
	if _, err := ob.record("m/hook", nil); err != nil {
		t.Fatal(err)
	}
	e, err := ob.record("m/hook", errors.New("late failure"))
	if err != nil || e.State != StateDelivered || e.Attempts != 1 {
		t.Errorf("record after delivery = %+v, %v; want unchanged delivered entry", e, err)
	}
}

func TestPermanentErrorDeadLettersAtOnce(t *testing.T) {
	ob := newOutbox(t, openDB(t, ""), newFakeClock(), OutboxOptions{})
	if _, err := ob.Enqueue(testMessage("m"), []string{"hook"}); err != nil {
		t.Fatal(err)
	}
	e, err := ob.record("m/hook", errors.Join(errors.New("HTTP 401"), ErrPermanent))
	if err != nil || e.State != StateDead || e.Attempts != 1 {
		t.Errorf("permanent failure = %+v, %v; want dead after one attempt", e, err)
	}
}

func TestOpenOutboxNilDB(t *testing.T) {
	if _, err := OpenOutbox(nil, OutboxOptions{}); !errors.Is(err, ErrInvalid) {
		t.Errorf("OpenOutbox(nil) = %v, want ErrInvalid", err)
	}
}

func TestPurgeDelivered(t *testing.T) {
	clock := newFakeClock()
	ob := newOutbox(t, openDB(t, ""), clock, OutboxOptions{MaxAttempts: 1})
	if _, err := ob.Enqueue(testMessage("m"), []string{"ok", "bad", "later"}); err != nil {
		t.Fatal(err)
	}
	if _, err := ob.record("m/ok", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := ob.record("m/bad", errors.New("boom")); err != nil {
		t.Fatal(err)
	}
	if n, err := ob.Purge(clock.Now()); err != nil || n != 0 {
		t.Errorf("Purge(now) = %d, %v; want 0 (cutoff is exclusive)", n, err)
	}
	if n, err := ob.Purge(clock.Now().Add(time.Second)); err != nil || n != 1 {
		t.Errorf("Purge = %d, %v; want 1", n, err)
	}
	left, err := ob.List(Filter{})
	if err != nil || len(left) != 2 || left[0].ID != "m/later" || left[1].ID != "m/bad" {
		t.Errorf("after Purge: %+v, %v; want the pending and the dead entry", left, err)
	}
}

// TestForget: every entry of the messages named goes, delivered, pending
// or dead, with the due index kept in step; another message's, even one
// whose id begins like theirs, stays.
func TestForget(t *testing.T) {
	clock := newFakeClock()
	db := openDB(t, "")
	ob := newOutbox(t, db, clock, OutboxOptions{MaxAttempts: 1})
	for _, id := range []string{"m", "m2", "n"} {
		if _, err := ob.Enqueue(testMessage(id), []string{"ok", "bad", "later"}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := ob.record("m/ok", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := ob.record("m/bad", errors.New("boom")); err != nil {
		t.Fatal(err)
	}
	if n, err := ob.Forget([]string{"m", "n"}); err != nil || n != 6 {
		t.Fatalf("Forget = %d, %v; want 6", n, err)
	}
	left, err := ob.List(Filter{})
	var ids []string
	for _, e := range left {
		ids = append(ids, e.ID)
	}
	slices.Sort(ids)
	if err != nil || strings.Join(ids, ",") != "m2/bad,m2/later,m2/ok" {
		t.Fatalf("after Forget: %v, %v; want m2's three", ids, err)
	}
	if err := db.View(checkDueIndex); err != nil {
		t.Fatal(err)
	}
	if st, err := ob.Stats(); err != nil || st.Pending != 3 || st.Dead != 0 {
		t.Fatalf("stats %+v (%v)", st, err)
	}
}

// TestPurgeInBatches: the delivered entries are deleted a batch per write
// transaction (writers wait for one batch, not for the whole outbox), all
// of them, and only them.
func TestPurgeInBatches(t *testing.T) {
	clock := newFakeClock()
	ob := newOutbox(t, openDB(t, ""), clock, OutboxOptions{})
	defer func(n int, f func(int)) { purgeBatch, purgeWrote = n, f }(purgeBatch, purgeWrote)
	purgeBatch = 2
	var writes []int
	purgeWrote = func(n int) { writes = append(writes, n) }
	for i := range 5 {
		id := fmt.Sprintf("m%d", i)
		if _, err := ob.Enqueue(testMessage(id), []string{"ok", "later"}); err != nil {
			t.Fatal(err)
		}
		if _, err := ob.record(id+"/ok", nil); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := ob.Purge(clock.Now().Add(time.Second)); err != nil || n != 5 {
		t.Fatalf("Purge = %d, %v; want the 5 delivered entries", n, err)
	}
	if fmt.Sprint(writes) != "[2 2 1]" {
		t.Fatalf("write transactions deleting %v entries; want batches of 2: [2 2 1]", writes)
	}
	left, err := ob.List(Filter{})
	if err != nil || len(left) != 5 {
		t.Fatalf("after Purge: %d entries, %v; want the 5 pending", len(left), err)
	}
	for _, e := range left {
		if e.State != StatePending {
			t.Errorf("left %s in state %s", e.ID, e.State)
		}
	}
}

// TestCorrectionWaitsForItsOriginal: the original (v1) of a message is
// to be tried again later at one destination (a 429); its correction (v2)
// is due now. The correction waits there until the original is settled,
// so that the client's last word is the correction; another destination,
// where the original went, gets it at once. A dead original does not hold
// it up.
func TestCorrectionWaitsForItsOriginal(t *testing.T) {
	clock := newFakeClock()
	ob := newOutbox(t, openDB(t, ""), clock, OutboxOptions{MaxAttempts: 2})
	if _, err := ob.Enqueue(testMessage("i1-v1"), []string{"slack", "mail"}); err != nil {
		t.Fatal(err)
	}
	if _, err := ob.record("i1-v1/mail", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := ob.record("i1-v1/slack", errors.New("HTTP 429")); err != nil {
		t.Fatal(err)
	}
	if _, err := ob.Enqueue(testMessage("i1-v2"), []string{"slack", "mail"}); err != nil {
		t.Fatal(err)
	}
	ids := func() string {
		t.Helper()
		ready, _, err := ob.due(clock.Now(), nil, nil, 10)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, e := range ready {
			out = append(out, e.ID)
		}
		slices.Sort(out)
		return strings.Join(out, ",")
	}
	if got := ids(); got != "i1-v2/mail" {
		t.Fatalf("due now: %s; want only the correction to mail (slack still owes the original)", got)
	}
	<-clock.After(time.Hour)
	if got := ids(); got != "i1-v1/slack,i1-v2/mail" {
		t.Fatalf("an hour later: %s; want the original to slack, not yet its correction", got)
	}
	if _, err := ob.record("i1-v1/slack", errors.New("HTTP 429")); err != nil { // its last attempt: dead
		t.Fatal(err)
	}
	if got := ids(); got != "i1-v2/mail,i1-v2/slack" {
		t.Fatalf("after the original died at slack: %s; want the correction to both", got)
	}
}

// TestRetryRefusesASupersededVersion: an intake's original died at a
// destination (a 404 while its URL was wrong) and its correction is queued
// there. Retrying the original would make the stale version the client's
// last word: refused, and it stays dead. Once the correction is delivered,
// the original's dead letter is discarded as superseded (Retry finds none,
// and the correction's purge 30 days on cannot make it retryable). Where
// no later version went (another destination, another intake whose id
// shares a prefix), retry works.
func TestRetryRefusesASupersededVersion(t *testing.T) {
	clock := newFakeClock()
	ob := newOutbox(t, openDB(t, ""), clock, OutboxOptions{})
	gone := fmt.Errorf("HTTP 404: %w", ErrPermanent)
	for _, id := range []string{"i1-v1", "i1-v10-v1"} {
		if _, err := ob.Enqueue(testMessage(id), []string{"hook", "mail"}); err != nil {
			t.Fatal(err)
		}
		for _, d := range []string{"hook", "mail"} {
			if e, err := ob.record(id+"/"+d, gone); err != nil || e.State != StateDead {
				t.Fatalf("record %s/%s = %+v, %v; want dead", id, d, e, err)
			}
		}
	}
	if _, err := ob.Enqueue(testMessage("i1-v2"), []string{"hook"}); err != nil {
		t.Fatal(err)
	}
	err := ob.Retry("i1-v1/hook")
	if !errors.Is(err, ErrSuperseded) || !strings.Contains(err.Error(), "i1-v2/hook") {
		t.Fatalf("Retry of the original while its correction waits = %v; want ErrSuperseded naming i1-v2/hook", err)
	}
	if e, err := ob.Get("i1-v1/hook"); err != nil || e.State != StateDead {
		t.Fatalf("the refused original: %+v, %v; want it still dead", e, err)
	}
	if _, err := ob.record("i1-v2/hook", nil); err != nil {
		t.Fatal(err)
	}
	if e, err := ob.Get("i1-v1/hook"); err != nil || e.State != StateDiscarded || !strings.Contains(e.LastError, "superseded") {
		t.Fatalf("the original once its correction was delivered: %+v, %v; want it discarded as superseded", e, err)
	}
	if err := ob.Retry("i1-v1/hook"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Retry of the superseded original = %v; want ErrNotFound (no dead letter)", err)
	}
	<-clock.After(31 * 24 * time.Hour)
	if _, err := ob.Purge(clock.Now().Add(-30 * 24 * time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := ob.Retry("i1-v1/hook"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Retry after the correction's purge = %v; want ErrNotFound", err)
	}
	for _, id := range []string{"i1-v1/mail", "i1-v10-v1/hook"} {
		if err := ob.Retry(id); err != nil {
			t.Errorf("Retry(%s) = %v; no later version of it went there", id, err)
		}
	}
}

// TestClockSetBackDoesNotParkEntries: the host booted nine hours fast (JST
// in a hardware clock read as UTC); an attempt failed and was scheduled
// 10 s later by that clock; NTP then set the clock back. The entry is due
// now, not in nine hours. An entry scheduled since, by the right clock,
// still waits for its time.
func TestClockSetBackDoesNotParkEntries(t *testing.T) {
	clock := newFakeClock()
	right := clock.Now()
	<-clock.After(9 * time.Hour) // the fast clock
	ob := newOutbox(t, openDB(t, ""), clock, OutboxOptions{})
	if _, err := ob.Enqueue(testMessage("early"), []string{"hook"}); err != nil {
		t.Fatal(err)
	}
	if _, err := ob.record("early/hook", errors.New("HTTP 503")); err != nil {
		t.Fatal(err)
	}
	clock.mu.Lock()
	clock.now = right // NTP steps it back
	clock.mu.Unlock()
	if _, err := ob.Enqueue(testMessage("later"), []string{"hook"}); err != nil {
		t.Fatal(err)
	}
	if _, err := ob.record("later/hook", errors.New("HTTP 503")); err != nil {
		t.Fatal(err)
	}
	ready, next, err := ob.due(clock.Now(), nil, nil, 10)
	if err != nil || len(ready) != 1 || ready[0].ID != "early/hook" {
		t.Fatalf("due after the clock was set back: %+v, %v; want the entry scheduled by the fast clock", ready, err)
	}
	if !next.After(clock.Now()) || next.Sub(clock.Now()) > time.Minute {
		t.Fatalf("next %v: want the later entry's retry, seconds from now", next)
	}
}

// TestDueIndexTimes: queued, last updated and due are three different
// times, each read where it belongs: an entry queued while the clock ran
// ahead but rescheduled since by the right clock keeps its backoff (it is
// the update time that says the clock was set back), and /healthz's
// oldest pending is the queue time.
func TestDueIndexTimes(t *testing.T) {
	clock := newFakeClock()
	right := clock.Now()
	<-clock.After(9 * time.Hour) // fast
	ob := newOutbox(t, openDB(t, ""), clock, OutboxOptions{})
	if _, err := ob.Enqueue(testMessage("m"), []string{"hook"}); err != nil {
		t.Fatal(err)
	}
	queued := clock.Now()
	clock.mu.Lock()
	clock.now = right // set back
	clock.mu.Unlock()
	if _, err := ob.record("m/hook", errors.New("HTTP 503")); err != nil { // rescheduled by the right clock
		t.Fatal(err)
	}
	if ready, next, err := ob.due(clock.Now(), nil, nil, 10); err != nil || len(ready) != 0 || !next.After(clock.Now()) {
		t.Fatalf("due = %+v, next %v, %v; want the entry waiting for its backoff", ready, next, err)
	}
	st, err := ob.Stats()
	if err != nil || st.Pending != 1 || !st.OldestPending.Equal(queued) {
		t.Fatalf("Stats = %+v, %v; want oldest pending queued at %v", st, err, queued)
	}
}

// TestPartlyDeliveredCountsAsDelivered: an attempt that reached some
// recipients is delivered (never sent again), its refusals kept as the
// last error.
func TestPartlyDeliveredCountsAsDelivered(t *testing.T) {
	ob := newOutbox(t, openDB(t, ""), newFakeClock(), OutboxOptions{})
	if _, err := ob.Enqueue(testMessage("m"), []string{"hook"}); err != nil {
		t.Fatal(err)
	}
	e, err := ob.record("m/hook", fmt.Errorf("%w: refused by the server: desk@client.example", ErrPartlyDelivered))
	if err != nil {
		t.Fatal(err)
	}
	if e.State != StateDelivered || !strings.Contains(e.LastError, "desk@client.example") {
		t.Fatalf("entry after a partial delivery: %+v", e)
	}
}

// TestDueIndexRebuiltAtOpen: an outbox written by a binary that kept no due
// index (an older release, or one run after a downgrade) is indexed afresh
// when opened: its pending entries are sent, its delivered ones are not.
func TestDueIndexRebuiltAtOpen(t *testing.T) {
	clock := newFakeClock()
	path := filepath.Join(t.TempDir(), "toritsugi.db")
	db := openDB(t, path)
	ob := newOutbox(t, db, clock, OutboxOptions{})
	for _, id := range []string{"sent", "waiting"} {
		if _, err := ob.Enqueue(testMessage(id), []string{"mail"}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := ob.record("sent/mail", nil); err != nil {
		t.Fatal(err)
	}
	// The older binary: no index; it enqueues one more entry.
	err := db.Update(func(tx *bolt.Tx) error {
		if err := tx.DeleteBucket(bucketDue); err != nil {
			return err
		}
		v, err := json.Marshal(Entry{ID: "old/mail", MessageID: "old", Destination: "mail", State: StatePending, NextAt: clock.Now(), Message: testMessage("old")})
		if err != nil {
			return err
		}
		return tx.Bucket(bucketOutbox).Put([]byte("old/mail"), v)
	})
	if err != nil {
		t.Fatal(err)
	}
	ob = newOutbox(t, db, clock, OutboxOptions{})
	if ids := dueIDs(t, ob, clock.Now()); !slices.Equal(ids, []string{"old/mail", "waiting/mail"}) {
		t.Fatalf("due after reopening: %v, want the two pending entries", ids)
	}
}

func TestIntakeMessageID(t *testing.T) {
	for _, tc := range []struct {
		id      string
		intake  string
		version int
		ok      bool
	}{
		{IntakeMessageID("0123abcd", 3), "0123abcd", 3, true},
		{IntakeMessageID("a-v2", 1), "a-v2", 1, true},
		{"c1-missed-call", "", 0, false},
		{"-v1", "", 0, false},
		{"i1-v0", "", 0, false},
		{"i1-vx", "", 0, false},
	} {
		intake, v, ok := ParseIntakeMessageID(tc.id)
		if intake != tc.intake || v != tc.version || ok != tc.ok {
			t.Errorf("ParseIntakeMessageID(%q) = %q, %d, %v; want %q, %d, %v", tc.id, intake, v, ok, tc.intake, tc.version, tc.ok)
		}
	}
}

// TestPageWalksEveryEntryOnce: pages of any size, each starting after the
// last one's final entry, list every matching entry once, oldest first
// (ties by id), and say "more" on every page but the last.
func TestPageWalksEveryEntryOnce(t *testing.T) {
	clock := newFakeClock()
	ob := newOutbox(t, openDB(t, ""), clock, OutboxOptions{})
	// Ids against their age, and runs of messages enqueued at one instant.
	for i := 30; i >= 1; i-- {
		m := testMessage(fmt.Sprintf("m%02d", i))
		if i%3 == 0 {
			m.ClientID = "c-002"
		}
		if _, err := ob.Enqueue(m, []string{"mail", "slack"}); err != nil {
			t.Fatal(err)
		}
		if i%4 == 0 {
			clock.mu.Lock()
			clock.now = clock.now.Add(time.Second)
			clock.mu.Unlock()
		}
	}
	for _, f := range []Filter{{}, {ClientID: "c-002"}, {State: StatePending}, {State: StateDead}} {
		all, err := ob.List(f)
		if err != nil {
			t.Fatal(err)
		}
		slices.SortFunc(all, func(a, b Entry) int { return PositionOf(a).Compare(PositionOf(b)) })
		for _, n := range []int{1, 2, 7, 60, 61} {
			var walked []string
			var after Position
			for pages := 0; ; pages++ {
				page, more, err := ob.Page(f, after, n)
				if err != nil {
					t.Fatal(err)
				}
				if len(page) > n || (more && len(page) != n) || pages > len(all) {
					t.Fatalf("%+v n=%d: page of %d, more %v", f, n, len(page), more)
				}
				for _, e := range page {
					walked = append(walked, e.ID)
				}
				if !more {
					break
				}
				after = PositionOf(page[len(page)-1])
			}
			want := make([]string, len(all))
			for i, e := range all {
				want[i] = e.ID
			}
			if !slices.Equal(walked, want) {
				t.Errorf("%+v n=%d: walked %v, want %v", f, n, walked, want)
			}
		}
	}
	if _, _, err := ob.Page(Filter{}, Position{}, 0); !errors.Is(err, ErrInvalid) {
		t.Errorf("Page of 0 entries: %v, want ErrInvalid", err)
	}
}

// TestStaleVersionQueuedAfterItsCorrection: two people correct one
// message; the later version is queued (and delivered) first, the
// earlier one's queueing comes after. Sent, the earlier version would be
// the client's last word: it is kept, discarded, never due (a review of
// people acting at once).
func TestStaleVersionQueuedAfterItsCorrection(t *testing.T) {
	clock := newFakeClock()
	ob := newOutbox(t, openDB(t, ""), clock, OutboxOptions{})
	for _, step := range []func() error{
		func() error { _, err := ob.Enqueue(testMessage("i1-v1"), []string{"mail"}); return err },
		func() error { _, err := ob.record("i1-v1/mail", nil); return err },
		func() error { _, err := ob.Enqueue(testMessage("i1-v3"), []string{"mail"}); return err },
		func() error { _, err := ob.record("i1-v3/mail", nil); return err },
	} {
		if err := step(); err != nil {
			t.Fatal(err)
		}
	}
	created, err := ob.Enqueue(testMessage("i1-v2"), []string{"mail"})
	if err != nil || len(created) != 0 {
		t.Fatalf("the stale version queued: %v, %v", created, err)
	}
	for _, id := range dueIDs(t, ob, clock.Now()) {
		t.Errorf("%s is due after i1-v3 was delivered to the same destination", id)
	}
	es, err := ob.List(Filter{State: StateDiscarded})
	if err != nil || len(es) != 1 || es[0].ID != "i1-v2/mail" {
		t.Fatalf("discarded entries %+v, %v: want i1-v2/mail kept, discarded", es, err)
	}
}

// TestStaleVersionToAnotherDestination: v3 is queued for mail only (its
// change made it no longer urgent), then v2, urgent, for mail and the
// pager: the pager must not end with the stale v2 and never get v3: v2
// is discarded there too, and the pager gets v3 instead (a review found
// v2 sent to it).
func TestStaleVersionToAnotherDestination(t *testing.T) {
	clock := newFakeClock()
	ob := newOutbox(t, openDB(t, ""), clock, OutboxOptions{})
	for _, step := range []func() error{
		func() error { _, err := ob.Enqueue(testMessage("i1-v1"), []string{"mail"}); return err },
		func() error { _, err := ob.record("i1-v1/mail", nil); return err },
		func() error { _, err := ob.Enqueue(testMessage("i1-v3"), []string{"mail"}); return err },
	} {
		if err := step(); err != nil {
			t.Fatal(err)
		}
	}
	created, err := ob.Enqueue(testMessage("i1-v2"), []string{"mail", "pager"})
	if err != nil || !slices.Equal(created, []string{"i1-v3/pager"}) {
		t.Fatalf("queued %v, %v; want v3 for the pager only", created, err)
	}
	if due := dueIDs(t, ob, clock.Now()); !slices.Equal(due, []string{"i1-v3/mail", "i1-v3/pager"}) {
		t.Fatalf("due %v, want v3 for both destinations", due)
	}
	es, _ := ob.List(Filter{State: StateDiscarded})
	if len(es) != 2 {
		t.Fatalf("discarded %d entries, want v2's two", len(es))
	}
}

// dueIDs lists the ids of the entries due at now (at most 10), sorted.
func dueIDs(t *testing.T, ob *Outbox, now time.Time) []string {
	t.Helper()
	ready, _, err := ob.due(now, nil, nil, 10)
	if err != nil {
		t.Fatal(err)
	}
	ids := []string{}
	for _, e := range ready {
		ids = append(ids, e.ID)
	}
	slices.Sort(ids)
	return ids
}
