package desk_test

import (
	"strings"
	"testing"
	"time"

	"github.com/toritsugi/toritsugi/pkg/config"
	"github.com/toritsugi/toritsugi/pkg/store"
)

// TestPurgeIntakesDaysAreDays: intake_retention_days: 30 deletes a
// message 30 days (30×24 h: Japan has no DST) after its last change. The
// cut-off was now.AddDate in the machine's zone: on a machine whose zone
// changed its clocks in those 30 days it moved by an hour. now comes as
// serve.go gives it (time.Now(), the machine's zone).
func TestPurgeIntakesDaysAreDays(t *testing.T) {
	d, _ := newDesk(t)
	y := strings.Replace(cfgYAML, "    script: standard\n", "    script: standard\n    intake_retention_days: 30\n", 1)
	cfg, err := config.Parse("test.yaml", []byte(y), nil)
	if err != nil {
		t.Fatal(err)
	}
	d.Config = func() *config.Config { return cfg }
	// On a machine whose zone changes its clocks (here, at the end of US
	// daylight saving time on 2026-11-01), whatever TZ the test runs in.
	la, err := time.LoadLocation("America/Los_Angeles")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 29, 3, 0, 0, 0, time.UTC).In(la)
	age := 30*24*time.Hour + 30*time.Minute // past its 30 days
	if _, err := d.Store.PutIntake(store.Intake{ID: "old", ClientID: "acme", OperatorID: "op1001", CallerNumber: "0312345678",
		Values: map[string]string{"name": "山田"}, UpdatedAt: now.Add(-age)}); err != nil {
		t.Fatal(err)
	}
	if n, _, err := d.PurgeIntakes(now); err != nil || n != 1 {
		t.Fatalf("purged %d (%v): a message 30 days 30 minutes old is kept past intake_retention_days: 30", n, err)
	}
}
