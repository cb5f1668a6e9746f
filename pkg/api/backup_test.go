package api_test

import (
	"bytes"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/toritsugi/toritsugi/pkg/api"
	"github.com/toritsugi/toritsugi/pkg/store"
	"github.com/toritsugi/toritsugi/pkg/store/storetest"
)

func TestBackupOpensAsAStore(t *testing.T) {
	st := storetest.Open(t)
	seed(t, st)
	h := api.NewHandler(api.Deps{Calls: st, LinkUp: func() bool { return true }, Token: tokenFunc})
	resp, body := get(t, h, "/api/v1/backup")
	if resp.StatusCode != 200 || len(body) == 0 || resp.ContentLength != int64(len(body)) {
		t.Fatalf("backup: %d, %d bytes, Content-Length %d", resp.StatusCode, len(body), resp.ContentLength)
	}
	path := filepath.Join(t.TempDir(), "copy.db")
	if err := os.WriteFile(path, body, 0o600); err != nil {
		t.Fatal(err)
	}
	cp := storetest.OpenPath(t, path)
	list, err := cp.ListCalls(store.CallFilter{})
	if err != nil || len(list) != 3 {
		t.Fatalf("backup copy lists %d calls (%v), want 3", len(list), err)
	}
}

// TestBackupLeavesOutCallsInProgress: the states of calls in progress are
// not in a backup (a store restored from it would record each as a call
// that ended unseen, a missed call relayed to its client), and the
// running store keeps them.
func TestBackupLeavesOutCallsInProgress(t *testing.T) {
	st := storetest.Open(t)
	seed(t, st)
	st.SaveLive("in-progress", "s=queued")
	st.SaveLiveSeen(time.Date(2026, 11, 29, 9, 0, 0, 0, time.UTC))
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		if live, seen, err := st.LiveCalls(); err != nil || len(live) == 1 && !seen.IsZero() {
			break
		} else if time.Now().After(deadline) {
			t.Fatalf("live state never written: %v %v", live, seen)
		}
	}
	h := api.NewHandler(api.Deps{Calls: st, LinkUp: func() bool { return true }, Token: tokenFunc, BackupDir: t.TempDir()})
	resp, body := get(t, h, "/api/v1/backup")
	if resp.StatusCode != 200 || resp.ContentLength != int64(len(body)) {
		t.Fatalf("backup: %d, %d bytes, Content-Length %d", resp.StatusCode, len(body), resp.ContentLength)
	}
	path := filepath.Join(t.TempDir(), "copy.db")
	if err := os.WriteFile(path, body, 0o600); err != nil {
		t.Fatal(err)
	}
	cp := storetest.OpenPath(t, path)
	if live, seen, err := cp.LiveCalls(); err != nil || len(live) != 0 || !seen.IsZero() {
		t.Errorf("the backup holds live calls %v, seen %v (%v); want none", live, seen, err)
	}
	if list, err := cp.ListCalls(store.CallFilter{}); err != nil || len(list) != 3 {
		t.Errorf("the backup lists %d calls (%v), want the 3 recorded", len(list), err)
	}
	if live, _, err := st.LiveCalls(); err != nil || live["in-progress"] != "s=queued" {
		t.Errorf("the running store's live calls %v (%v), want in-progress kept", live, err)
	}
}

// TestBackupNeedsFreeSpace: a backup whose copy would leave less than
// 64 MiB free on the data directory's disk is refused (507, saying how
// much is free and needed) and copies nothing: taking the last of the
// space would make the calls' records fail.
func TestBackupNeedsFreeSpace(t *testing.T) {
	st := storetest.Open(t)
	seed(t, st)
	size, err := st.Size()
	if err != nil || size <= 0 {
		t.Fatalf("Size = %d, %v", size, err)
	}
	dir := t.TempDir()
	var free uint64
	h := api.NewHandler(api.Deps{Calls: st, LinkUp: func() bool { return true }, Token: tokenFunc, BackupDir: dir,
		FreeSpace: func(string) (uint64, bool) { return free, true }})
	free = uint64(size) + 64<<20 - 1
	resp, body := get(t, h, "/api/v1/backup")
	if resp.StatusCode != http.StatusInsufficientStorage || !strings.Contains(string(body), dir) ||
		!strings.Contains(string(body), fmt.Sprint(free)) || !strings.Contains(string(body), fmt.Sprint(uint64(size)+64<<20)) {
		t.Fatalf("backup with %d bytes free: %d %s; want 507 naming the directory, the free and the needed bytes", free, resp.StatusCode, body)
	}
	if left, _ := os.ReadDir(dir); len(left) != 0 {
		t.Errorf("a refused backup left %v", left)
	}
	free = uint64(size) + 64<<20
	if resp, body := get(t, h, "/api/v1/backup"); resp.StatusCode != 200 || int64(len(body)) != resp.ContentLength {
		t.Fatalf("backup with just enough space: %d, %d bytes", resp.StatusCode, len(body))
	}
}

// stalledWriter is a client that stops reading: its first write blocks
// until released.
type stalledWriter struct {
	header  http.Header
	release chan struct{}
}

func (s *stalledWriter) Header() http.Header { return s.header }
func (s *stalledWriter) WriteHeader(int)     {}
func (s *stalledWriter) Write(b []byte) (int, error) {
	<-s.release
	return len(b), nil
}

// TestBackupToAStalledClientHoldsNoWriter: a backup client that stops
// reading must not hold the store's writers (every call record) while it
// stalls: the copy is made first, in one short read transaction.
func TestBackupToAStalledClientHoldsNoWriter(t *testing.T) {
	st := storetest.Open(t)
	seed(t, st)
	h := api.NewHandler(api.Deps{Calls: st, LinkUp: func() bool { return true }, Token: tokenFunc, Logger: slog.New(slog.DiscardHandler)})
	w := &stalledWriter{header: http.Header{}, release: make(chan struct{})}
	req := httptest.NewRequest("GET", "/api/v1/backup", nil)
	req.Header.Set("Authorization", "Bearer "+testToken)
	served := make(chan struct{})
	go func() { defer close(served); h.ServeHTTP(w, req) }()
	defer func() { close(w.release); <-served }()
	// Grow the file while the client stalls: bbolt remaps it, which waits
	// for every open read transaction.
	wrote := make(chan error, 1)
	go func() {
		big := strings.Repeat("x", 64<<10)
		for i := range 100 {
			rec := store.CallRecord{ID: fmt.Sprintf("g%03d", i), ClientID: "acme", DID: "0312345678", Result: store.ResultCompleted, Reason: big,
				StartedAt: time.Date(2026, 11, 3, 10, 0, i, 0, time.UTC), EndedAt: time.Date(2026, 11, 3, 10, 1, i, 0, time.UTC)}
			if err := st.PutCall(rec); err != nil {
				wrote <- err
				return
			}
		}
		wrote <- nil
	}()
	select {
	case err := <-wrote:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("call records waited for a stalled backup client")
	}
}

// TestBackupCopiesIntoBackupDir: the copy is made in BackupDir (the data
// directory) and removed once sent.
func TestBackupCopiesIntoBackupDir(t *testing.T) {
	st := storetest.Open(t)
	seed(t, st)
	dir := t.TempDir()
	var during []string
	h := api.NewHandler(api.Deps{Calls: copySpy{st, func() {
		names, _ := filepath.Glob(filepath.Join(dir, "*"))
		during = names
	}}, LinkUp: func() bool { return true }, Token: tokenFunc, BackupDir: dir})
	if resp, body := get(t, h, "/api/v1/backup"); resp.StatusCode != 200 || len(body) == 0 {
		t.Fatalf("backup: %d", resp.StatusCode)
	}
	if len(during) != 1 {
		t.Fatalf("files in the backup directory during the copy: %v", during)
	}
	if left, _ := filepath.Glob(filepath.Join(dir, "*")); len(left) != 0 {
		t.Fatalf("files left in the backup directory: %v", left)
	}
}

// copySpy calls after once the backup copy is written.
type copySpy struct {
	*store.Store
	after func()
}

func (c copySpy) CompactTo(path string) (int64, int, error) {
	n, live, err := c.Store.CompactTo(path)
	c.after()
	return n, live, err
}

// TestOneBackupAtATime: a backup asked for while another is being sent is
// refused with 429 (each copies the whole database to the data disk);
// copies a stopped process left behind are removed when the API starts;
// reads of callers' data are logged with who asked, and refused tokens
// too.
func TestOneBackupAtATime(t *testing.T) {
	st := storetest.Open(t)
	seed(t, st)
	dir := t.TempDir()
	left := filepath.Join(dir, ".toritsugi-backup-12345.db")
	if err := os.WriteFile(left, []byte("half a copy"), 0o600); err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	var mu sync.Mutex
	logger := slog.New(slog.NewTextHandler(lockedWriter{&mu, &logs}, nil))
	h := api.NewHandler(api.Deps{Calls: st, LinkUp: func() bool { return true }, Token: tokenFunc, BackupDir: dir, Logger: logger})
	if _, err := os.Stat(left); !os.IsNotExist(err) {
		t.Fatalf("a copy left behind is still there: %v", err)
	}
	w := &stalledWriter{header: http.Header{}, release: make(chan struct{})}
	req := httptest.NewRequest("GET", "/api/v1/backup", nil)
	req.Header.Set("Authorization", "Bearer "+testToken)
	served := make(chan struct{})
	go func() { defer close(served); h.ServeHTTP(w, req) }()
	var code int
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		resp, _ := get(t, h, "/api/v1/backup")
		if code = resp.StatusCode; code == http.StatusTooManyRequests {
			break
		}
	}
	close(w.release)
	<-served
	if code != http.StatusTooManyRequests {
		t.Fatalf("a second backup during the first: %d, want 429", code)
	}
	if resp, body := get(t, h, "/api/v1/backup"); resp.StatusCode != 200 || len(body) == 0 {
		t.Fatalf("a backup after the first: %d", resp.StatusCode)
	}
	bad := httptest.NewRequest("GET", "/api/v1/calls", nil)
	bad.Header.Set("Authorization", "Bearer wrong")
	h.ServeHTTP(httptest.NewRecorder(), bad)
	// Anyone may send a huge path: the log keeps 200 bytes of it.
	huge := httptest.NewRequest("GET", "/api/v1/clients/"+strings.Repeat("x", 512<<10)+"/counts", nil)
	h.ServeHTTP(httptest.NewRecorder(), huge)
	get(t, h, "/api/v1/calls?client=acme")
	mu.Lock()
	out := logs.String()
	mu.Unlock()
	if len(out) > 8<<10 || !strings.Contains(out, "…(cut)") {
		t.Errorf("a refused 512 KiB path made %d bytes of log, want it cut", len(out))
	}
	if !strings.Contains(out, `msg="data API" method=GET path=/api/v1/calls query="client=acme" remote=`) || !strings.Contains(out, "status=200") {
		t.Errorf("the read of calls is not logged:\n%s", out)
	}
	if !strings.Contains(out, `level=WARN msg="data API: refused, no valid token"`) {
		t.Errorf("the refused token is not logged:\n%s", out)
	}
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l lockedWriter) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(b)
}

// TestBackupHoldsNoDeletedData: a message deleted by the retention (or a
// caller's request) is not in a backup made after: the copy is compacted,
// not page for page (bbolt frees a deleted value's pages without wiping
// them, and every later backup carried it); the copy opens as a store and
// keeps what was not deleted.
func TestBackupHoldsNoDeletedData(t *testing.T) {
	st := storetest.Open(t)
	seed(t, st)
	const secret = "借金の返済について相談したい"
	for i := range 50 {
		in := store.Intake{ID: fmt.Sprintf("i%02d", i), Version: 1, ClientID: "acme", OperatorID: "op1001", CallerNumber: "09011112222",
			Values: map[string]string{"name": "山田花子", "purpose": secret}, CreatedAt: time.Unix(int64(1e9+i), 0), UpdatedAt: time.Unix(int64(1e9+i), 0)}
		if _, _, err := st.SaveIntake(in, true); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := st.PurgeIntakes(func(store.Intake) bool { return true }); err != nil || n != 50 {
		t.Fatalf("purged %d (%v)", n, err)
	}
	h := api.NewHandler(api.Deps{Calls: st, LinkUp: func() bool { return true }, Token: tokenFunc})
	resp, body := get(t, h, "/api/v1/backup")
	if resp.StatusCode != 200 {
		t.Fatalf("backup: %d", resp.StatusCode)
	}
	if i := bytes.Index(body, []byte(secret)); i >= 0 {
		t.Fatalf("a deleted message's words at byte %d of the backup", i)
	}
	path := filepath.Join(t.TempDir(), "copy.db")
	if err := os.WriteFile(path, body, 0o600); err != nil {
		t.Fatal(err)
	}
	// check-db's checks pass on it (the change feed, the indexes)
	if sum, err := store.CheckFile(path); err != nil {
		t.Fatalf("check-db of the copy: %+v, %v", sum, err)
	}
	if list, err := storetest.OpenPath(t, path).ListCalls(store.CallFilter{}); err != nil || len(list) != 3 {
		t.Fatalf("backup copy lists %d calls (%v), want 3", len(list), err)
	}
}
