package api_test

import (
	"bytes"
	"testing"
	"time"

	"github.com/toritsugi/toritsugi/pkg/api"
	"github.com/toritsugi/toritsugi/pkg/store/storetest"
)

// TestBackupHoldsNoLiveStates: the calls in progress, left out of a
// backup, are never written to it (deleted from the copy, their freed
// pages kept the caller's number).
func TestBackupHoldsNoLiveStates(t *testing.T) {
	st := storetest.Open(t)
	seed(t, st)
	st.SaveLive("in-progress", "s=queued&n=09099998888")
	st.SaveLiveSeen(time.Date(2026, 11, 29, 9, 0, 0, 0, time.UTC))
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		if live, _, err := st.LiveCalls(); err == nil && len(live) == 1 {
			break
		} else if time.Now().After(deadline) {
			t.Fatal("never written")
		}
	}
	h := api.NewHandler(api.Deps{Calls: st, LinkUp: func() bool { return true }, Token: tokenFunc, BackupDir: t.TempDir()})
	resp, body := get(t, h, "/api/v1/backup")
	if resp.StatusCode != 200 {
		t.Fatalf("backup: %d", resp.StatusCode)
	}
	if i := bytes.Index(body, []byte("09099998888")); i >= 0 {
		t.Fatalf("the live call left out of the backup is in its bytes at %d", i)
	}
}
