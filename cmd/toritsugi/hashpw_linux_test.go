package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/toritsugi/toritsugi/pkg/password"
)

// openPTY opens a pseudo-terminal pair: what is written to master is
// typed at slave.
func openPTY(t *testing.T) (master, slave *os.File) {
	t.Helper()
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Fatalf("no pseudo-terminal: %v", err)
	}
	t.Cleanup(func() { m.Close() })
	if err := unix.IoctlSetPointerInt(int(m.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		t.Fatal(err)
	}
	n, err := unix.IoctlGetInt(int(m.Fd()), unix.TIOCGPTN)
	if err != nil {
		t.Fatal(err)
	}
	s, err := os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return m, s
}

// TestHashPasswordAtATerminal: typed at a terminal, the password is asked
// twice and never shown (the terminal does not echo it), and the hash
// printed verifies it; two different entries are refused.
func TestHashPasswordAtATerminal(t *testing.T) {
	for _, c := range []struct {
		typed string
		ok    bool
	}{{"kabushiki-2026\nkabushiki-2026\n", true}, {"kabushiki-2026\nkabushiki-2027\n", false}} {
		master, slave := openPTY(t)
		var shown bytes.Buffer
		copied := make(chan struct{})
		go func() { defer close(copied); _, _ = io.Copy(&shown, master) }()
		var out bytes.Buffer
		done := make(chan error, 1)
		go func() { done <- hashPassword(slave, &out) }()
		// Type once the terminal no longer echoes.
		for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(time.Millisecond) {
			tio, err := unix.IoctlGetTermios(int(slave.Fd()), unix.TCGETS)
			if err == nil && tio.Lflag&unix.ECHO == 0 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("echo never turned off")
			}
		}
		if _, err := master.WriteString(c.typed); err != nil {
			t.Fatal(err)
		}
		var err error
		select {
		case err = <-done:
		case <-time.After(10 * time.Second):
			t.Fatal("hash-password never returned")
		}
		slave.Close()
		master.Close()
		<-copied
		if strings.Contains(shown.String(), "kabushiki") {
			t.Errorf("the terminal showed %q", shown.String())
		}
		if !c.ok {
			if err == nil || !strings.Contains(err.Error(), "differ") {
				t.Errorf("two different passwords: %v, %q", err, out.String())
			}
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		if !password.Check(strings.TrimSpace(out.String()), "kabushiki-2026") {
			t.Errorf("hash %q does not verify the password typed", out.String())
		}
	}
}
