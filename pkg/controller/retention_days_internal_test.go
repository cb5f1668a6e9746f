package controller

import (
	"testing"
	"time"

	"github.com/toritsugi/toritsugi/pkg/config"
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
