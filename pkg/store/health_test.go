package store_test

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/toritsugi/toritsugi/pkg/store"
	"github.com/toritsugi/toritsugi/pkg/store/storetest"
)

// TestPingReportsFailingWrites: when the file cannot grow (here the
// process's file size limit; a full disk in production) the call records
// fail, and Ping, behind /healthz, says so; it still does right after a
// commit works again, and the record is then stored. The limit is set in
// a child process (this test binary run again), so that nothing else is
// limited.
func TestPingReportsFailingWrites(t *testing.T) {
	if os.Getenv("TORITSUGI_TEST_FSIZE_CHILD") == "1" {
		fsizeChild(t)
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run", "^TestPingReportsFailingWrites$", "-test.v")
	cmd.Env = append(os.Environ(), "TORITSUGI_TEST_FSIZE_CHILD=1", "TORITSUGI_TEST_DIR="+t.TempDir())
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "child: ok") {
		t.Fatalf("child: %v\n%s", err, out)
	}
}

func fsizeChild(t *testing.T) {
	signal.Ignore(syscall.SIGXFSZ) // a write past the limit fails with EFBIG instead
	path := filepath.Join(os.Getenv("TORITSUGI_TEST_DIR"), "toritsugi.db")
	s := storetest.OpenPath(t, path)
	if err := s.Ping(); err != nil {
		t.Fatalf("Ping of a new store: %v", err)
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	var old syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_FSIZE, &old); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &syscall.Rlimit{Cur: uint64(st.Size()), Max: old.Max}); err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 11, 29, 9, 0, 0, 0, time.UTC)
	var failed store.CallRecord
	for i := 0; ; i++ {
		r := rec(fmt.Sprint("c", i), "acme", at, store.ResultAnswered, true)
		r.Reason = strings.Repeat("理由", 500)
		if err := s.PutCall(r); err != nil {
			t.Logf("record %d failed: %v", i, err)
			failed = r
			break
		}
		if i == 1000 {
			t.Fatal("1,000 records stored in a file that cannot grow")
		}
	}
	// bbolt formats its resize error: the cause is in the text only.
	if err := s.Ping(); !errors.Is(err, store.ErrWriteFailed) || !strings.Contains(err.Error(), "too large") {
		t.Fatalf("Ping while records fail: %v, want ErrWriteFailed naming the commit's error (file too large)", err)
	}
	if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &old); err != nil {
		t.Fatal(err)
	}
	mustPut(t, s, failed)
	if err := s.Ping(); !errors.Is(err, store.ErrWriteFailed) {
		t.Fatalf("Ping right after writes work again: %v, want ErrWriteFailed for a minute", err)
	}
	t.Log("child: ok")
}
