//go:build e2e

package e2e

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/toritsugi/toritsugi/pkg/config"
	"github.com/toritsugi/toritsugi/pkg/fallback"
	"github.com/toritsugi/toritsugi/pkg/sipphone"
	"github.com/toritsugi/toritsugi/pkg/store"
)

// TestRefusedWhileDown: with no toritsugi connected, a call to a client's
// number is refused by asterisk-conf's fallback: never answered (early
// media), then 480; and toritsugi, reading the fallback log the dialplan
// wrote (FILE()), records it as that client's failed call from that
// caller. TORITSUGI_E2E_FALLBACK_LOG names the log as this host sees it
// (e.g. /var/spool/asterisk/toritsugi-fallback.log, readable here).
func TestRefusedWhileDown(t *testing.T) {
	e, err := loadEnv(os.LookupEnv)
	if err != nil {
		t.Fatal(err)
	}
	path, ok := os.LookupEnv("TORITSUGI_E2E_FALLBACK_LOG")
	if !ok || path == "" {
		t.Fatal("TORITSUGI_E2E_FALLBACK_LOG is not set: the fallback log as this host sees it, e.g. /var/spool/asterisk/toritsugi-fallback.log")
	}
	log := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelDebug}))
	ctx, cancel := context.WithTimeout(context.Background(), phaseTimeout)
	defer cancel()
	caller := newTrunkCaller(ctx, t, e, log)
	c := clients[1]
	before := time.Now().Add(-time.Second)
	res, err := caller.Call(ctx, sipphone.CallOptions{To: "sip:" + c.Dial + "@" + e.SIPAddr, From: c.From, RingTimeout: 30 * time.Second})
	if !errors.Is(err, sipphone.ErrRejected) || res.StatusCode != 480 || res.Answered != 0 {
		t.Fatalf("a call while toritsugi is down: %+v, %v; want refused with 480, never answered (is a toritsugi connected?)", res, err)
	}

	dir := t.TempDir()
	cfg, err := config.Parse(filepath.Join(dir, "toritsugi.yaml"), []byte(configYAML(e, dir, "http://127.0.0.1:1/unused")), nil)
	if err != nil {
		t.Fatal(err)
	}
	cfg.FallbackLog = path
	st, err := store.Open(filepath.Join(dir, "toritsugi.db"), store.Options{Timeout: 2 * time.Second, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var found *store.CallRecord
	r := &fallback.Reader{Store: st, Config: func() *config.Config { return cfg }, Logger: log.With("part", "fallback"),
		OnRecord: func(rec store.CallRecord) {
			if rec.ClientID == c.ID && !rec.StartedAt.Before(before.Truncate(time.Second)) {
				found = &rec
			}
		}}
	poll(t, phaseTimeout, "the refused call in "+path, func() (bool, string) {
		n, err := r.Scan(ctx)
		return found != nil, "scan: " + errString(err) + ", records " + itoa(n)
	})
	if found.Result != store.ResultFailed || found.Reason != fallback.Reason || found.Billable || found.DID == "" {
		t.Errorf("record of the refused call %+v, want the client's failed call, not billable", *found)
	}
}

func errString(err error) string {
	if err == nil {
		return "ok"
	}
	return err.Error()
}

func itoa(n int) string { return strconv.Itoa(n) }
