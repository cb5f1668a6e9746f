package store

import (
	"maps"
	"path/filepath"
	"testing"
	"time"
)

// TestPendingLiveStateKeepsTheCallKnown: a call's live state saved and
// not written yet (the disk failed for it and for the call's record,
// which is being tried again) keeps the call known, as a written one
// does: PutCallIfUnknown stores no "never seen" record in its place (an
// answered call was stored as a missed one, unbilled, and its state then
// skipped at close: a review of billing), KnowsCall says so, and the
// caller's data lists it as a call in progress (an erasure waits for it).
func TestPendingLiveStateKeepsTheCallKnown(t *testing.T) {
	s, err := Open(filepath.Join(t.TempDir(), "toritsugi.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	s.live.mu.Lock()
	s.live.pending = map[string]string{"c1": "n=%2B819012345678&s=connected"}
	s.live.retry = true // a write failed: nothing written before the retry's timer
	s.live.mu.Unlock()
	at := time.Date(2026, 11, 30, 1, 0, 0, 0, time.UTC)
	stub := CallRecord{ID: "c1", ClientID: "acme", DID: "0312345678", CallerID: "09012345678", CallerKind: "number",
		Result: ResultAbandoned, Reason: "caller hung up before the answer, while the ARI link was down", StartedAt: at, EndedAt: at.Add(time.Minute)}
	if stored, err := s.PutCallIfUnknown(stub); err != nil || stored {
		t.Fatalf("never-seen record stored over a pending live state: %v, %v", stored, err)
	}
	if known, err := s.KnowsCall("c1"); err != nil || !known {
		t.Fatalf("KnowsCall of a call with a pending state: %v, %v", known, err)
	}
	d, err := s.CallerData("+819012345678")
	if err != nil || len(d.Live) != 1 || d.Live[0] != "c1" {
		t.Fatalf("caller data %+v, %v: want c1 in progress", d, err)
	}
	if _, err := s.Call("c1"); err == nil {
		t.Fatal("a record of c1 exists")
	}
}

// TestLiveCallsIncludePendingStates: LiveCalls gives a state saved and not
// yet written, over the written one, and not for a call stored meanwhile.
// A controller stopped and started again on the same open store (tests do;
// the stop saves every call's state) read the state written before the
// stop's save, older: a callback number keyed and confirmed was missing
// from the record (TestCallbackNumberAcrossRestart failed 1 run in 10).
func TestLiveCallsIncludePendingStates(t *testing.T) {
	s, err := Open(filepath.Join(t.TempDir(), "toritsugi.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	s.SaveLive("c1", "s=callback")
	s.SaveLive("c2", "s=queued")
	s.SaveLive("c3", "s=queued")
	eventuallyWritten := func() {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for {
			s.live.mu.Lock()
			n := len(s.live.pending)
			s.live.mu.Unlock()
			if n == 0 {
				return
			}
			if time.Now().After(deadline) {
				t.Fatal("live states not written in 5 s")
			}
			time.Sleep(time.Millisecond)
		}
	}
	eventuallyWritten()
	if err := s.PutCall(CallRecord{ID: "c3", ClientID: "acme", DID: "0312345678", Result: ResultAbandoned, StartedAt: time.Now(), EndedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	// Newer states saved, not written yet (as if the writer had not run).
	s.live.mu.Lock()
	s.live.pending = map[string]string{"c1": "s=hangup&cb=%2B81311112222", "c3": "s=connected", "c4": "s=greeting"}
	s.live.retry = true
	s.live.mu.Unlock()
	got, _, err := s.LiveCalls()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"c1": "s=hangup&cb=%2B81311112222", "c2": "s=queued", "c4": "s=greeting"}
	if !maps.Equal(got, want) {
		t.Fatalf("LiveCalls = %v, want %v", got, want)
	}
}

// TestLiveStatesBeingWrittenCount: a batch the writer has taken and not
// yet committed (bbolt's batch delay, the sync) is still saved and
// unwritten: LiveCalls gives it (a newer pending state over it),
// PutCallIfUnknown keeps a "never seen" record out, and an erasure finds
// the call, by the caller's number or by a callback number keyed (a
// review: for that moment the state was in neither place, and LiveCalls
// gave an older one in 2 reads of 2,000 right after a save).
func TestLiveStatesBeingWrittenCount(t *testing.T) {
	s, err := Open(filepath.Join(t.TempDir(), "toritsugi.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	s.live.mu.Lock()
	s.live.inflight = map[string]string{
		"c1": "n=%2B819012345678&s=queued",
		"c2": "n=anonymous&s=callback&cn=%2B81311112222",
	}
	s.live.pending = map[string]string{"c1": "n=%2B819012345678&s=connected"}
	s.live.retry = true // the writer waits: nothing is written meanwhile
	s.live.mu.Unlock()
	got, _, err := s.LiveCalls()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"c1": "n=%2B819012345678&s=connected", "c2": "n=anonymous&s=callback&cn=%2B81311112222"}
	if !maps.Equal(got, want) {
		t.Fatalf("LiveCalls = %v, want %v", got, want)
	}
	at := time.Date(2026, 11, 30, 1, 0, 0, 0, time.UTC)
	stub := CallRecord{ID: "c2", ClientID: "acme", DID: "0312345678", CallerID: "anonymous", CallerKind: "anonymous",
		Result: ResultAbandoned, Reason: "caller hung up before the answer, while the ARI link was down", StartedAt: at, EndedAt: at.Add(time.Minute)}
	if stored, err := s.PutCallIfUnknown(stub); err != nil || stored {
		t.Fatalf("never-seen record stored over a state being written: %v, %v", stored, err)
	}
	for _, n := range []string{"+81311112222", "+819012345678"} {
		d, err := s.CallerData(n)
		if err != nil || len(d.Live) != 1 {
			t.Fatalf("caller data of %s %+v, %v: want one call in progress", n, d, err)
		}
	}
}

// TestDropLiveOfAStateBeingWritten: a call dropped while its state is in
// the writer's batch no longer counts as saved, and the batch does not
// write it (a review: it was reported live until the commit, and could be
// written back after the drop's delete).
func TestDropLiveOfAStateBeingWritten(t *testing.T) {
	s, err := Open(filepath.Join(t.TempDir(), "toritsugi.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	s.live.mu.Lock()
	s.live.inflight = map[string]string{"c1": "n=%2B819012345678&s=queued", "c2": "n=%2B819087654321&s=queued"}
	s.live.retry = true // the writer waits: nothing is written meanwhile
	s.live.mu.Unlock()
	if err := s.DropLive("c1"); err != nil {
		t.Fatal(err)
	}
	got, _, err := s.LiveCalls()
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := got["c1"]; ok || s.livePending("c1") || len(got) != 1 {
		t.Fatalf("after DropLive of a state being written: LiveCalls %v, pending %v; want c2 alone", got, s.livePending("c1"))
	}
	// The batch itself: written with the drop marked, c1 is skipped.
	s.live.mu.Lock()
	s.live.pending, s.live.inflight = s.live.inflight, nil
	s.live.mu.Unlock()
	s.flushLive()
	got, _, err = s.LiveCalls()
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := got["c1"]; ok || len(got) != 1 {
		t.Fatalf("written after the drop: %v; want c2 alone", got)
	}
	s.live.mu.Lock()
	defer s.live.mu.Unlock()
	if s.live.dropped != nil || s.live.inflight != nil {
		t.Fatalf("after the write: dropped %v, inflight %v; want none", s.live.dropped, s.live.inflight)
	}
}
