package controller

import (
	"fmt"
	"slices"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/toritsugi/toritsugi/pkg/config"
	"github.com/toritsugi/toritsugi/pkg/store"
	"github.com/toritsugi/toritsugi/pkg/store/storetest"
)

// TestRetentionForgetsARemovedClientPastItsDays: a client added by a
// reload and removed by the next, an hourly sweep between them, each
// with recording_retention_days: 30 and a recorded call. Each left its
// days (retention_days) and its own sweep's cutoff (retention_swept)
// for ever, and its own sweep, a read every hour. Its recordings still
// go at its own 30 days; once a sweep has passed its removal by those
// days (its every call then past them) its entries go.
func TestRetentionForgetsARemovedClientPastItsDays(t *testing.T) {
	st := storetest.Open(t)
	var cfg *config.Config
	d := &recordingDeletes{}
	start := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	r := &Retention{Store: st, ARI: d, Config: func() *config.Config { return cfg }, Logger: storetest.Logger(t), orphansSwept: start}
	keys := func(bucket string) int {
		n := 0
		_ = st.Bolt().View(func(tx *bolt.Tx) error {
			if b := tx.Bucket([]byte(bucket)); b != nil {
				n = b.Stats().KeyN
			}
			return nil
		})
		return n
	}
	sweep := func(at time.Time) {
		t.Helper()
		if _, err := r.Sweep(at); err != nil {
			t.Fatal(err)
		}
	}
	const clients, day = 60, 24 * time.Hour
	at := func(i int) time.Time { return start.Add(time.Duration(i) * time.Hour) } // tmp<i> added, tmp<i-1> removed
	for i := range clients {
		c, err := config.Parse("t.yaml", []byte(fmt.Sprintf(`ari: {user: toritsugi, password: secret}
data_dir: /var/lib/toritsugi
clients:
  - {id: acme, name: ACME, dids: ["03-1234-5678"], greeting: sound:x, recording_retention_days: 30}
  - {id: tmp%d, name: T, dids: ["03-9000-%04d"], greeting: sound:x, recording_retention_days: 30}
operators:
  - {id: op1001, name: 佐藤, endpoint: PJSIP/op1001, clients: ["*"]}
`, i, i)), nil)
		if err != nil {
			t.Fatal(err)
		}
		cfg = c
		sweep(at(i))
		call := at(i).Add(30 * time.Minute)
		if err := st.PutCall(store.CallRecord{ID: fmt.Sprintf("c%d", i), ClientID: fmt.Sprintf("tmp%d", i), DID: "0390000000", CallerID: "09012345678", CallerKind: "number",
			Result: store.ResultAnswered, Reason: "talked", StartedAt: call, EndedAt: call.Add(time.Minute), Recording: fmt.Sprintf("rec-tmp%d", i)}); err != nil {
			t.Fatal(err)
		}
	}
	if len(d.deleted) != 0 {
		t.Fatalf("deleted %v within the hours", d.deleted)
	}

	// 30 days after tmp0's removal: its recording went at its 30 days,
	// and its entries with it; tmp1's recording is not due yet, and its
	// entries stay.
	sweep(at(1).Add(30 * day))
	if !slices.Equal(d.deleted, []string{"rec-tmp0"}) {
		t.Fatalf("30 days after tmp0's removal deleted %v, want tmp0's recording only", d.deleted)
	}
	if _, ok := r.known["tmp0"]; ok {
		t.Fatal("tmp0's days kept after a sweep passed its removal by them")
	}
	if k := r.known["tmp1"]; !k.Removed || k.Days != 30 {
		t.Fatalf("tmp1's days %+v before its recording went, want 30, removed", k)
	}
	if _, ok := r.swept["tmp1"]; !ok {
		t.Fatal("tmp1's own sweep gone before its recording went")
	}

	// Past every removal: every recording gone, the removed clients
	// forgotten, in memory and in the store.
	sweep(at(clients).Add(31 * day))
	if len(d.deleted) != clients {
		t.Fatalf("deleted %d recordings, want the %d", len(d.deleted), clients)
	}
	if len(r.known) != 2 || len(r.swept) != 3 || keys("retention_days") != 2 || keys("retention_swept") != 3 {
		t.Fatalf("kept: %d clients' days (%d in the store), %d sweeps (%d in the store); want acme and tmp%d, and their sweeps with the removed clients'",
			len(r.known), keys("retention_days"), len(r.swept), keys("retention_swept"), clients-1)
	}
}
