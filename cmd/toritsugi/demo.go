package main

import (
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/toritsugi/toritsugi/pkg/aritest"
	"github.com/toritsugi/toritsugi/pkg/config"
	"github.com/toritsugi/toritsugi/pkg/gcpercent"
	"github.com/toritsugi/toritsugi/pkg/password"
)

// The demo's console login.
const (
	demoOperator = "op1001"
	demoPassword = "demo-op1001"
)

// demo runs the real controller against the in-process simulated PBX
// (pkg/aritest) with the sample configuration and a stream of calls.
func demo(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	listen := fs.String("listen", "127.0.0.1:8080", "HTTP API address")
	// Four operators (three simulated, and you) each take about 50 s a
	// call with the sample's 30 s wrap-up: a call every 15 s keeps them
	// busy and a short queue, where one every 3 s grew without end.
	every := fs.Duration("every", 15*time.Second, "mean time between simulated calls")
	dataDir := fs.String("data", "", "data directory (default: a new temporary one)")
	talk := fs.Duration("talk", 20*time.Second, "how long simulated operators talk")
	realHours := fs.Bool("real-hours", false, "apply the sample clients' business hours (default: open around the clock)")
	if err := fs.Parse(args); err != nil {
		return usageError{err.Error()}
	}
	if *every <= 0 {
		return usageError{"demo: --every must be positive"}
	}

	pbx, err := aritest.New(aritest.Options{})
	if err != nil {
		return fmt.Errorf("demo: simulated PBX: %w", err)
	}
	defer pbx.Close()

	if *dataDir == "" {
		d, err := os.MkdirTemp("", "toritsugi-demo-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(d)
		*dataDir = d
	} else if err := os.MkdirAll(*dataDir, 0o750); err != nil {
		return fmt.Errorf("demo: data directory: %w", err)
	}
	token := demoToken()
	env := map[string]string{
		"TORITSUGI_HTTP_API_TOKEN": token,
		"TORITSUGI_ARI_URL":        pbx.URL(), "TORITSUGI_ARI_PASSWORD": "toritsugi",
		"TORITSUGI_DATA_DIR": *dataDir, "TORITSUGI_HTTP_LISTEN": *listen,
	}
	cfg, err := config.Parse("sample.yaml", config.SampleYAML, func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	if err != nil {
		return fmt.Errorf("demo: sample config: %w", err)
	}
	cfg.FallbackLog = "" // a real Asterisk's refused calls are not the demo's
	for i := range cfg.Clients {
		c := &cfg.Clients[i]
		if !*realHours {
			c.Hours.AlwaysOpen = true // a demo at night should still reach operators
		}
		pbx.AddSound(strings.TrimPrefix(c.Greeting, "sound:"), 4*time.Second)
	}
	pbx.AddSound(strings.TrimPrefix(cfg.UnknownDIDSound, "sound:"), 3*time.Second)
	for _, c := range cfg.Clients {
		for _, m := range []string{c.AfterHoursSound, c.OverflowSound, c.BlockedSound, c.WhisperSound, c.RecordAnnouncement} {
			if name, ok := strings.CutPrefix(m, "sound:"); ok {
				pbx.AddSound(name, time.Second)
			}
		}
	}
	// Simulated operators: softphones that answer after 2 s and talk --talk.
	for _, op := range cfg.Operators {
		pbx.AddEndpoint(op.Endpoint, true, aritest.EndpointBehavior{
			Answer: aritest.AnswerAfter, Delay: 2 * time.Second, HangupAfter: *talk,
		})
	}

	// One console operator to try the console with; the others are
	// simulated and available whenever their softphone is registered.
	hash, err := password.Hash(demoPassword)
	if err != nil {
		return err
	}
	for i := range cfg.Operators {
		if cfg.Operators[i].ID == demoOperator {
			cfg.Operators[i].PasswordHash = hash
			cfg.Operators[i].Supervisor = true
		}
	}
	log := newLogger(stderr, cfg.LogLevel)
	log.Info("garbage collector target", "gogc", gcpercent.Apply())
	outbox := &demoRelay{log: log.With("part", "demo-relay")}
	path := filepath.Join(*dataDir, "sample.yaml")
	if err := os.WriteFile(path, config.SampleYAML, 0o600); err != nil {
		return err
	}
	svc, err := newService(cfg, path, log, serviceOptions{
		senders: outbox.senders(),
		extra:   map[string]http.Handler{"/demo/outbox": outbox},
	})
	if err != nil {
		return err
	}
	defer svc.close()
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return fmt.Errorf("demo: http listen: %w", err)
	}
	fmt.Fprintf(stdout, `toritsugi demo — THIS IS A SIMULATION: the PBX is toritsugi's built-in fake Asterisk,
no real telephone calls are made. Simulated calls arrive about every %s;
simulated operators answer after 2 s and talk for %s.
  Console: http://%[3]s/login  — log in as %[5]s / %[6]s, press 受付可 (available),
           take the calls that pop up and save the intakes (also the supervisor view: /supervisor)
  Relayed: http://%[3]s/demo/outbox  (simulated: nothing leaves this machine)
  API:     curl -H "Authorization: Bearer %[7]s" http://%[3]s/api/v1/calls
  Health:  http://%[3]s/healthz
  data:    %[4]s
Press Ctrl-C to stop.
`, *every, *talk, ln.Addr(), *dataDir, demoOperator, demoPassword, token)

	go simulateCalls(ctx, pbx, cfg, *every, log)
	return svc.run(ctx, ln, nil)
}

// simulateCalls places calls to the sample clients' numbers (and now and
// then to an unknown one); some callers hang up during the greeting.
func simulateCalls(ctx context.Context, pbx *aritest.Server, cfg *config.Config, every time.Duration, log *slog.Logger) {
	var dids []string
	for _, c := range cfg.Clients {
		for _, d := range c.DIDs {
			dids = append(dids, "0"+strings.TrimPrefix(d, "+81"))
		}
	}
	dids = append(dids, "0300000000") // nobody's number
	for {
		wait := time.Duration(rand.ExpFloat64() * float64(every))
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		did := dids[rand.IntN(len(dids))]
		caller := fmt.Sprintf("090%08d", rand.IntN(100000000))
		id, err := pbx.IncomingCall(did, caller)
		if err != nil {
			log.Warn("simulated call refused by the PBX", "did", did, "error", err)
			continue
		}
		if rand.IntN(5) == 0 { // an impatient caller
			go func() {
				select {
				case <-ctx.Done():
				case <-time.After(time.Duration(500+rand.IntN(2000)) * time.Millisecond):
					_ = pbx.RemoteHangup(id)
				}
			}()
		}
	}
}

// demoToken is a fresh data API token for one demo run.
func demoToken() string {
	var b [16]byte
	_, _ = crand.Read(b[:])
	return hex.EncodeToString(b[:])
}
