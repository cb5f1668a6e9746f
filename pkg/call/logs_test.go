package call_test

import (
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/toritsugi/toritsugi/pkg/store"
	"github.com/toritsugi/toritsugi/pkg/syncbuf"
)

// TestLogsHoldNoCallerNumber: a call's log lines, at the service's default
// level, never carry the caller's whole number (logs are kept and shipped
// outside the store's retention): a call to a number no client has logs
// it masked, its last four digits.
func TestLogsHoldNoCallerNumber(t *testing.T) {
	for _, did := range []string{"0312345678", "0399999999"} {
		t.Run(did, func(t *testing.T) {
			h := newHarness(t)
			var buf syncbuf.Buffer
			h.log = slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelInfo}))
			h.fake.AddSound("ss-noservice", 3*time.Second)
			h.start()
			h.waitConnected(1)
			const caller = "09055554444"
			id, err := h.fake.IncomingCall(did, caller)
			if err != nil {
				t.Fatal(err)
			}
			if rec := h.waitRecord(id); rec.Result != store.ResultCompleted && rec.Result != store.ResultUnknownDID {
				t.Fatalf("result %s", rec.Result)
			}
			for _, line := range strings.Split(buf.String(), "\n") {
				if strings.Contains(line, caller) {
					t.Errorf("the log carries the caller's number: %s", line)
				}
			}
			if did == "0399999999" && !strings.Contains(buf.String(), "caller=*******4444") {
				t.Errorf("the unknown DID's warning does not name the caller masked:\n%s", buf.String())
			}
		})
	}
}
