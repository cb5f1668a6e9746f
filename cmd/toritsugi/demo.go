package main

import (
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	iofs "io/fs"
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
	othersAfter := fs.Duration("others-after", time.Minute, "when the simulated operators' softphones register (until then the calls are yours)")
	if err := fs.Parse(args); err != nil {
		return usageError{err.Error()}
	}
	if *every <= 0 {
		return usageError{"demo: --every must be positive"}
	}

	// The port first: taken, nothing else is set up, and the error says
	// what to do.
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return fmt.Errorf("demo: http listen: %w (another program has it? try: make demo ARGS='--listen 127.0.0.1:8099')", err)
	}
	defer ln.Close()
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
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	// One console operator to try the console with; the others are
	// simulated and available whenever their softphone is registered.
	hash, err := demoHash(*dataDir)
	if err != nil {
		return err
	}
	// The demo's settings over its sample, at the start and after every
	// reload of DIR/sample.yaml (an edit there, e.g. for operator
	// training, must not log the console operator out or close the
	// clients at night).
	adjust := func(cfg *config.Config) {
		cfg.FallbackLog = "" // a real Asterisk's refused calls are not the demo's
		for i := range cfg.Clients {
			if !*realHours {
				cfg.Clients[i].Hours.AlwaysOpen = true // a demo at night should still reach operators
			}
		}
		for i := range cfg.Operators {
			if cfg.Operators[i].ID == demoOperator {
				cfg.Operators[i].PasswordHash = hash
				cfg.Operators[i].Supervisor = true
			}
		}
		demoSounds(pbx, cfg)
	}
	// The sample is written to DIR once and read from there: with --data,
	// what was edited in it is what the next start runs.
	path := filepath.Join(*dataDir, "sample.yaml")
	data, err := os.ReadFile(path)
	if errors.Is(err, iofs.ErrNotExist) {
		data = config.SampleYAML
		err = os.WriteFile(path, data, 0o600)
	}
	if err != nil {
		return fmt.Errorf("demo: sample config: %w", err)
	}
	cfg, err := config.Parse(path, data, lookup)
	if err != nil {
		return fmt.Errorf("demo: sample config: %w", err)
	}
	adjust(cfg)
	// Simulated operators: softphones that answer after 2 s and talk --talk.
	// The console operator's is registered from the start; the others
	// --others-after later, so that the first calls are the one trying
	// the console's (routing gives a call to the operator free the
	// longest: one just available would get none).
	var others []string
	for _, op := range cfg.Operators {
		mine := op.ID == demoOperator
		pbx.AddEndpoint(op.Endpoint, mine, aritest.EndpointBehavior{
			Answer: aritest.AnswerAfter, Delay: 2 * time.Second, HangupAfter: *talk,
		})
		if !mine {
			others = append(others, op.Endpoint)
		}
	}
	// The clients' own phones, for their VIP callers: they answer and
	// talk (the sample asks no transfer_confirm: no key to press).
	for _, c := range cfg.Clients {
		if c.TransferTo != "" {
			pbx.SetRemoteNumber("0"+strings.TrimPrefix(c.TransferTo, "+81"), aritest.EndpointBehavior{
				Answer: aritest.AnswerAfter, Delay: 3 * time.Second, HangupAfter: *talk,
			})
		}
	}
	go func() {
		select {
		case <-ctx.Done():
		case <-time.After(*othersAfter):
			for _, e := range others {
				_ = pbx.Register(e)
			}
		}
	}()

	log := slog.New(demoLogFilter{newLogger(stderr, cfg.LogLevel).Handler()})
	log.Info("garbage collector target", "gogc", gcpercent.Apply())
	outbox := &demoRelay{log: log.With("part", "demo-relay")}
	svc, err := newService(cfg, path, log, serviceOptions{
		senders: outbox.senders(),
		extra:   map[string]http.Handler{"/demo/outbox": outbox},
		reload:  config.StoreOptions{Env: lookup, Adjust: adjust},
	})
	if err != nil {
		return err
	}
	defer svc.close()
	fmt.Fprintf(stdout, `toritsugi demo — THIS IS A SIMULATION: the PBX is toritsugi's built-in fake Asterisk,
no real telephone calls are made. Simulated calls arrive about every %s;
simulated operators answer after 2 s and talk for %s.
  Console: http://%[3]s/login  — log in as %[5]s / %[6]s, press 受付可 (available),
           take the calls that pop up and save the intakes (also the supervisor view: /supervisor)
  Relayed: http://%[3]s/demo/outbox  (simulated: nothing leaves this machine)
  API:     curl -H "Authorization: Bearer %[7]s" "http://%[3]s/api/v1/calls?limit=5"   (&format=csv: a table)
  Health:  http://%[3]s/healthz
  data:    %[4]s
Press Ctrl-C to stop.
`, *every, *talk, ln.Addr(), *dataDir, demoOperator, demoPassword, token)

	go simulateCalls(ctx, pbx, cfg, *every, log)
	return svc.run(ctx, ln, nil)
}

// demoSounds gives the simulated PBX the sounds cfg names: a greeting
// lasts 4 s, an announcement 1 s.
func demoSounds(pbx *aritest.Server, cfg *config.Config) {
	pbx.AddSound(strings.TrimPrefix(cfg.UnknownDIDSound, "sound:"), 3*time.Second)
	for _, c := range cfg.Clients {
		pbx.AddSound(strings.TrimPrefix(c.Greeting, "sound:"), 4*time.Second)
		for _, m := range []string{c.AfterHoursSound, c.OverflowSound, c.BlockedSound, c.WhisperSound, c.RecordAnnouncement} {
			if name, ok := strings.CutPrefix(m, "sound:"); ok {
				pbx.AddSound(name, time.Second)
			}
		}
	}
}

// demoCallers are the simulated callers: a few who call again (the
// console shows what they said before), the sample's VIP (transferred to
// the client), known and blocked callers now and then, and new ones.
var demoCallers = []string{
	"09012345678", "08023456789", "0312340000", "0661239999", // repeat callers; 06-6123-9999 is the clinic's known 薬局
	"09011112222", // the builder's known 現場監督
	"0398765432",  // the builder's VIP 山田社長
	"0120123456",  // a sales number the builder blocks
}

// simulateCalls places calls to the sample clients' numbers (and now and
// then to an unknown one): the first a few seconds after the start, the
// rest about every `every`; some callers hang up during the greeting.
func simulateCalls(ctx context.Context, pbx *aritest.Server, cfg *config.Config, every time.Duration, log *slog.Logger) {
	var dids []string
	for _, c := range cfg.Clients {
		for _, d := range c.DIDs {
			dids = append(dids, "0"+strings.TrimPrefix(d, "+81"))
		}
	}
	for n := 0; ; n++ {
		wait := time.Duration(rand.ExpFloat64() * float64(every))
		if n == 0 {
			wait = 3 * time.Second // a first call soon, for whoever is trying the console
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		did := dids[rand.IntN(len(dids))]
		if rand.IntN(10) == 0 && n > 0 {
			did = "0300000000" // nobody's number
		}
		caller := fmt.Sprintf("090%08d", rand.IntN(100000000))
		if rand.IntN(2) == 0 && n > 0 { // the first: an ordinary caller, for the console
			caller = demoCallers[rand.IntN(len(demoCallers))]
		}
		id, err := pbx.IncomingCall(did, caller)
		if err != nil {
			log.Warn("simulated call refused by the PBX", "did", did, "error", err)
			continue
		}
		if rand.IntN(5) == 0 && n > 0 { // an impatient caller
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

// demoHash is the console operator's password hash, kept in the data
// directory: a demo started again on the same --data keeps its sessions
// (they are bound to the hash, and a new salt would be a password change
// that logs the operator out).
func demoHash(dir string) (string, error) {
	path := filepath.Join(dir, "demo-"+demoOperator+".hash")
	if b, err := os.ReadFile(path); err == nil {
		if h := strings.TrimSpace(string(b)); password.Check(h, demoPassword) {
			return h, nil
		}
	}
	h, err := password.Hash(demoPassword)
	if err != nil {
		return "", err
	}
	if err := os.WriteFile(path, []byte(h+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("demo: %w", err)
	}
	return h, nil
}

// demoLogFilter drops the simulated operators' state changes: half of
// the demo's log, which hid what the one trying the console did.
type demoLogFilter struct{ slog.Handler }

func (h demoLogFilter) Handle(ctx context.Context, r slog.Record) error {
	if r.Message == "operator state" {
		mine := false
		r.Attrs(func(a slog.Attr) bool {
			if a.Key == "operator" {
				mine = a.Value.String() == demoOperator
				return false
			}
			return true
		})
		if !mine {
			return nil
		}
	}
	return h.Handler.Handle(ctx, r)
}

func (h demoLogFilter) WithAttrs(as []slog.Attr) slog.Handler {
	return demoLogFilter{h.Handler.WithAttrs(as)}
}

func (h demoLogFilter) WithGroup(name string) slog.Handler {
	return demoLogFilter{h.Handler.WithGroup(name)}
}

// demoToken is a fresh data API token for one demo run.
func demoToken() string {
	var b [16]byte
	_, _ = crand.Read(b[:])
	return hex.EncodeToString(b[:])
}
