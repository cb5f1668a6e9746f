package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/CyCoreSystems/ari/v6"
	"github.com/toritsugi/toritsugi/pkg/acd"
	"github.com/toritsugi/toritsugi/pkg/api"
	"github.com/toritsugi/toritsugi/pkg/config"
	"github.com/toritsugi/toritsugi/pkg/console"
	"github.com/toritsugi/toritsugi/pkg/controller"
	"github.com/toritsugi/toritsugi/pkg/desk"
	"github.com/toritsugi/toritsugi/pkg/fallback"
	"github.com/toritsugi/toritsugi/pkg/gcpercent"
	"github.com/toritsugi/toritsugi/pkg/pbx"
	"github.com/toritsugi/toritsugi/pkg/relay"
	"github.com/toritsugi/toritsugi/pkg/store"
)

func serve(ctx context.Context, args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := fs.String("config", "", "configuration file (YAML)")
	if err := fs.Parse(args); err != nil {
		return usageError{err.Error()}
	}
	if *path == "" {
		return usageError{"serve: --config FILE is required"}
	}
	// Taken first: a SIGHUP's default action ends the process, and
	// opening a large store (its consistency check) takes a while. A
	// reload asked for meanwhile is done once serving.
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	cfg, err := config.Load(*path)
	if err != nil {
		return err
	}
	log := newLogger(stderr, cfg.LogLevel)
	log.Info("garbage collector target", "gogc", gcpercent.Apply())
	config.LogWarnings(log, cfg)
	warnSounds(log, cfg)
	svc, err := newService(cfg, *path, log)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", cfg.HTTP.Listen)
	if err != nil {
		return errors.Join(fmt.Errorf("http listen: %w", err), svc.close())
	}
	if cfg.HTTP.APIListen != "" {
		if svc.apiLn, err = net.Listen("tcp", cfg.HTTP.APIListen); err != nil {
			return errors.Join(fmt.Errorf("http api_listen: %w", err), ln.Close(), svc.close())
		}
	}
	err = svc.run(ctx, ln, hup)
	// A stop that lost what the next start needs (the live calls' states,
	// on a full disk) is no clean stop: the exit status says so.
	return errors.Join(err, svc.close())
}

// service is the wired-up controller, relay, console and HTTP API.
type service struct {
	log     *slog.Logger
	configs *config.Store
	store   *store.Store
	core    *controller.Controller
	outbox  *relay.Outbox
	worker  *relay.Worker
	desk    *desk.Desk
	console *console.Console
	// fallback records the calls Asterisk refused while toritsugi was down.
	fallback *fallback.Reader
	extra    map[string]http.Handler
	// apiLn, when set (http.api_listen), is where the data API is served
	// instead of with the console.
	apiLn  net.Listener
	ctx    context.Context
	cancel context.CancelFunc
}

// serviceOptions adjust a service (the demo's simulated relay).
type serviceOptions struct {
	senders map[string]relay.Sender // nil = the real channels
	extra   map[string]http.Handler // more routes (the demo's outbox page)
	// mailTLS, for the real channels, is the TLS configuration of mail's
	// STARTTLS (a test's own server's certificate); nil: system roots.
	mailTLS *tls.Config
	// apiLn is http.api_listen's listener (a test's own).
	apiLn net.Listener
	// reload changes how the configuration file is reloaded (the demo's
	// environment and its settings over the file); zero: as serve.
	reload config.StoreOptions
}

func newService(cfg *config.Config, path string, log *slog.Logger, opts ...serviceOptions) (*service, error) {
	var o serviceOptions
	if len(opts) > 0 {
		o = opts[0]
	}
	if err := os.MkdirAll(cfg.DataDir, 0o750); err != nil {
		return nil, fmt.Errorf("data_dir %s: %w: create it, writable by the user toritsugi runs as", cfg.DataDir, err)
	}
	st, err := store.Open(filepath.Join(cfg.DataDir, "toritsugi.db"), store.Options{Timeout: 2 * time.Second, Logger: log})
	if err != nil {
		return nil, err
	}
	s := &service{log: log, store: st, configs: config.NewStoreWith(path, cfg, log, o.reload), extra: o.extra, apiLn: o.apiLn}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	fail := func(err error) (*service, error) {
		s.cancel()
		st.Close()
		return nil, err
	}
	if s.outbox, err = relay.OpenOutbox(st.Bolt(), relay.OutboxOptions{Logger: log.With("part", "relay"), Admit: desk.AdmitIntakes(st)}); err != nil {
		return fail(err)
	}
	senders := o.senders
	if senders == nil {
		senders = relay.Channels(relay.ChannelOptions{TLSConfig: o.mailTLS, Recordings: s.recordingFile})
	}
	s.worker, err = relay.NewWorker(s.outbox, relay.WorkerOptions{
		Destinations:     func(name string) (relay.Destination, bool) { return s.configs.Current().Destination(name) },
		DestinationUsers: func(name string) []string { return s.configs.Current().DestinationUsers(name) },
		Senders:          senders, Logger: log.With("part", "relay"),
	})
	if err != nil {
		return fail(err)
	}
	s.desk = &desk.Desk{Config: s.configs.Current, Store: st, Outbox: s.outbox, Logger: log.With("part", "desk")}
	s.console = console.New(console.Deps{
		Operators: s.desk.Operators, Forms: s.desk, Control: s.desk, Relay: s.desk, Store: st,
		Logger: log.With("part", "console"), SecureCookies: cfg.HTTP.SecureCookies, ClientName: s.desk.ClientName,
	})
	s.desk.Console = s.console
	deployment, err := store.DeploymentID(cfg.DataDir)
	if err != nil {
		return fail(err)
	}
	log.Info("deployment", "id", deployment, "file", filepath.Join(cfg.DataDir, store.DeploymentFile))
	s.core, err = controller.New(s.ctx, controller.Options{
		Config: s.configs.Current, Updates: s.configs.Subscribe(), Recorder: st, Store: st, Deployment: deployment, Callbacks: st, Logger: log,
		OnConnected: s.desk.Connected, OnFinished: s.desk.Finished,
		OnOperatorChange: func(c acd.OperatorStateChanged) {
			s.console.StateChanged(c.OpID)
			s.desk.OperatorChanged(c)
		},
	})
	if err != nil {
		return fail(err)
	}
	s.desk.Queue = s.core.Queue
	s.desk.LinkUp = s.core.Link.Up
	s.fallback = &fallback.Reader{Store: st, Config: s.configs.Current, OnRecord: s.desk.Finished, Logger: log.With("part", "fallback")}
	// Queued behind the operators controller.New installed, and before
	// any call is re-adopted (that needs the link, which Run starts).
	loggedIn, err := s.console.LoggedIn()
	if err != nil {
		log.Error("reading the console sessions: no operator's state is restored", "error", err)
	} else if n, err := s.desk.RestorePresence(func(id string) bool { return loggedIn[id] }); err != nil {
		log.Error("restoring the console operators' states", "error", err, "restored", n)
	} else if n > 0 {
		log.Info("console operators' states restored", "operators", n)
	}
	return s, nil
}

// recordingFile reads a voicemail's recording from Asterisk, for the
// relay's mail to carry: relay.ErrNoRecording when Asterisk has it no
// more (ARI's 404 "Recording not found"; another 404, from Asterisk
// starting with res_ari not loaded yet or from a proxy, is tried again).
func (s *service) recordingFile(ctx context.Context, name string) ([]byte, error) {
	data, err := s.core.Link.RecordingFile(ctx, name, relay.MaxAttachment)
	if pbx.StatusCode(err) == http.StatusNotFound && strings.Contains(err.Error(), "Recording not found") {
		return nil, fmt.Errorf("%w: %w", relay.ErrNoRecording, err)
	}
	return data, err
}

// handlers route the console's pages and API and the data API: all on
// one handler, or, with http.api_listen, the data API on a handler of its
// own (apiOnly), and the console's without it (/healthz on both: it
// holds no data, and health checks ask it there).
func (s *service) handlers() (handler, apiOnly http.Handler) {
	mux := http.NewServeMux()
	console := s.console.Handler()
	mux.Handle("/", console)
	data := api.NewHandler(api.Deps{
		Calls: s.store, LinkUp: s.core.Up, Logger: s.log.With("part", "api"), Outbox: s.outbox, BackupDir: s.configs.Current().DataDir,
		Token:           func() string { return s.configs.Current().HTTP.APIToken },
		ClientTokens:    func() map[string]string { return s.configs.Current().ClientAPITokens },
		FallbackFailing: s.fallback.Failing,
		ConfigReloadFailed: func() (api.ReloadFailure, bool) {
			f, failed := s.configs.Failed()
			return api.ReloadFailure{File: f.File, Since: f.Since, Problems: f.Problems}, failed
		},
		OnForget: s.console.ForgetCaller,
		DeleteRecording: func(name string) error {
			err := s.core.Link.Client().StoredRecording().Delete(ari.NewKey(ari.StoredRecordingKey, name))
			if pbx.IsNotFound(err) {
				return nil // gone already
			}
			return err
		},
	})
	// The data API has /api/v1/ but for the console's own paths (the
	// longer pattern wins): a data route added later needs no entry here
	// (the monthly reports had none, and answered 404).
	mux.Handle("/healthz", data)
	if s.apiLn == nil {
		mux.Handle("/api/v1/", data)
	} else {
		mux.Handle("/api/v1/", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusNotFound)
			_, _ = io.WriteString(w, `{"error":"the data API is served at http.api_listen's address"}`+"\n")
		}))
		apiMux := http.NewServeMux()
		apiMux.Handle("/", data)
		apiOnly = bodyDeadline(apiMux, bodyReadTimeout)
	}
	for _, p := range []string{"/api/v1/console/", "/api/v1/login", "/api/v1/logout"} {
		mux.Handle(p, console)
	}
	for p, h := range s.extra {
		mux.Handle(p, h)
	}
	return bodyDeadline(mux, bodyReadTimeout), apiOnly
}

// bodyReadTimeout bounds how long a request body may take to arrive.
const bodyReadTimeout = 30 * time.Second

// bodyDeadline gives a request with a body at most d to send it:
// ReadHeaderTimeout bounds the headers only, and a client that sends a
// body a byte at a time (to the login form, say) would hold a connection
// for as long as it likes. The server's ReadTimeout would do it for every
// request, the console's event streams included: those are GETs without
// a body, which get no deadline. A GET or HEAD that announces a body gets
// one too: the server reads what it announced before it answers, and one
// that never sent it held its connection for ever (a review's test).
func bodyDeadline(h http.Handler, d time.Duration) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead || r.ContentLength != 0 {
			_ = http.NewResponseController(w).SetReadDeadline(time.Now().Add(d))
		}
		h.ServeHTTP(w, r)
	})
}

// run serves until ctx ends: the ARI link, the relay, the HTTP server and
// config reloads.
func (s *service) run(ctx context.Context, ln net.Listener, hup <-chan os.Signal) error {
	handler, apiHandler := s.handlers()
	srv := &http.Server{Handler: handler, ReadHeaderTimeout: 5 * time.Second, IdleTimeout: 2 * time.Minute}
	var apiSrv *http.Server
	if s.apiLn != nil {
		apiSrv = &http.Server{Handler: apiHandler, ReadHeaderTimeout: 5 * time.Second, IdleTimeout: 2 * time.Minute}
	}
	errc := make(chan error, 3)
	done := make(chan struct{})
	// The operators' states are stored until the core has stopped: the
	// last state changes come as it stops.
	presenceCtx, stopPresence := context.WithCancel(context.WithoutCancel(s.ctx))
	defer stopPresence()
	presenceDone := make(chan struct{})
	go func() { defer close(presenceDone); s.desk.RunPresence(presenceCtx) }()
	go func() { defer close(done); _ = s.core.Run(s.ctx) }()
	// An intake stored just before a crash may never have been queued.
	if n, err := s.desk.RequeueUnrelayed(s.ctx, time.Now().Add(-requeueWindow)); err != nil {
		s.log.Error("checking that recent intakes were relayed", "error", err)
	} else if n > 0 {
		s.log.Warn("intakes queued for relay at start", "count", n)
	}
	if n, err := s.desk.RequeueUnrelayedCalls(time.Now().Add(-callRequeueWindow)); err != nil {
		s.log.Error("checking that recent missed calls and voicemails were relayed", "error", err)
	} else if n > 0 {
		s.log.Warn("missed calls and voicemails queued for relay at start", "count", n)
	}
	relayDone := make(chan struct{})
	// The relay stops first, while the HTTP server drains: its sends in
	// flight get their grace alongside, not after.
	relayCtx, stopRelay := context.WithCancel(s.ctx)
	defer stopRelay()
	go func() { defer close(relayDone); _ = s.worker.Run(relayCtx) }()
	fallbackDone := make(chan struct{})
	go func() { defer close(fallbackDone); s.fallback.Run(s.ctx) }()
	purgeDone := make(chan struct{})
	go func() { defer close(purgeDone); s.purgeDelivered(s.ctx) }()
	retryDone := make(chan struct{})
	go func() { defer close(retryDone); s.retryUnqueued(s.ctx) }()
	strandedDone := make(chan struct{})
	updates := s.configs.Subscribe()
	prev := s.configs.Current()
	go func() { defer close(strandedDone); s.reloadWarnings(s.ctx, prev, updates) }()
	go func() {
		if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			errc <- fmt.Errorf("http: %w", err)
		}
	}()
	if apiSrv != nil {
		go func() {
			if err := apiSrv.Serve(s.apiLn); !errors.Is(err, http.ErrServerClosed) {
				errc <- fmt.Errorf("http api: %w", err)
			}
		}()
		s.log.Info("data API served apart", "http", s.apiLn.Addr().String())
	}
	go s.configs.Watch(s.ctx, hup)
	s.log.Info("toritsugi serving", "version", versionString(), "http", ln.Addr().String(), "ari", s.configs.Current().ARI.URL)

	var err error
	select {
	case <-ctx.Done():
	case err = <-errc:
	}
	s.log.Info("shutting down")
	stopRelay()
	s.console.EndStreams() // or Shutdown waits for them; pops of the drain are still kept
	shut, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	// Both at once: the data API takes no new backup or erasure while the
	// console drains, nor waits for it.
	apiDone := make(chan struct{})
	go func() {
		defer close(apiDone)
		if apiSrv != nil {
			_ = apiSrv.Shutdown(shut)
		}
	}()
	_ = srv.Shutdown(shut)
	<-apiDone
	s.cancel()
	<-done
	s.console.Close() // no call is put through any more: the pops' saves end
	stopPresence()
	<-presenceDone
	<-relayDone
	<-purgeDone
	<-fallbackDone
	<-retryDone
	<-strandedDone
	return err
}

// reloadWarnings warns, at start and after every reload, of relay
// messages waiting for a destination the configuration no longer has (a
// destination renamed or removed while messages were pending), and after
// every reload of sounds not found in sounds_dir (a client added with a
// greeting not installed yet: its callers would hear silence). After a
// reload it also sends at once the relay messages waiting for a retry to
// a destination added or changed since prev, the configuration before
// (hastenChangedDestinations).
func (s *service) reloadWarnings(ctx context.Context, prev *config.Config, updates <-chan *config.Config) {
	for {
		stranded, err := s.desk.StrandedRelays()
		if err != nil {
			s.log.Warn("checking relay destinations", "error", err)
		}
		for _, d := range slices.Sorted(maps.Keys(stranded)) {
			s.log.Warn("relay messages wait for a destination the configuration no longer has: put it back, or they are dead-lettered after their retries (then: GET /api/v1/relay)",
				"destination", d, "messages", stranded[d])
		}
		select {
		case <-ctx.Done():
			return
		case cfg := <-updates:
			warnSounds(s.log, cfg)
			if n, err := hastenChangedDestinations(s.outbox, prev, cfg); err != nil {
				s.log.Error("relay messages waiting for a destination the reload added or changed still wait for their retry", "error", err)
			} else if n > 0 {
				s.log.Info("relay messages waiting for a destination the reload added or changed are sent now", "messages", n)
			}
			prev = cfg
		}
	}
}

// warnSounds logs each sound of cfg that sounds_dir lacks (checkSounds).
func warnSounds(log *slog.Logger, cfg *config.Config) {
	for _, err := range checkSounds(cfg) {
		log.Warn("greeting or announcement not playable", "error", err)
	}
}

func (s *service) close() error {
	s.cancel()
	if err := s.store.Close(); err != nil {
		s.log.Error("closing store", "error", err)
		return err
	}
	return nil
}

func newLogger(w io.Writer, level string) *slog.Logger {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		lv = slog.LevelInfo
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: lv}))
}

// requeueWindow is how far back start-up checks that intakes were queued.
const requeueWindow = 7 * 24 * time.Hour

// callRequeueWindow is how far back start-up checks that missed calls and
// voicemails were queued: short, so that turning relay_missed_calls on
// does not relay a week of calls that ended before.
const callRequeueWindow = time.Hour

// deliveredKept is how long delivered relay entries stay in the outbox
// (their status is shown with the intake); dead letters are kept.
const deliveredKept = 30 * 24 * time.Hour

// unqueuedRetry is how often the messages the outbox could not take (a
// full disk) are tried again.
const unqueuedRetry = 30 * time.Second

// retryUnqueued queues, every unqueuedRetry, the messages whose queueing
// for relay failed (desk.RetryUnqueued logs each).
func (s *service) retryUnqueued(ctx context.Context) {
	t := time.NewTicker(unqueuedRetry)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			s.desk.RetryUnqueued()
		}
	}
}

// purgeDelivered drops delivered outbox entries older than deliveredKept,
// at start and every hour, so the outbox does not grow without end, the
// messages past their client's intake_retention_days, the call records
// past call_record_retention_days, and the console's aged screen pops.
func (s *service) purgeDelivered(ctx context.Context) {
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		if n, err := s.outbox.Purge(time.Now().Add(-deliveredKept)); err != nil {
			s.log.Warn("purging delivered relay entries", "error", err)
		} else if n > 0 {
			s.log.Info("delivered relay entries purged", "count", n)
		}
		if n, cb, err := s.desk.PurgeIntakes(time.Now()); err != nil {
			s.log.Warn("deleting messages past their retention", "error", err)
		} else if n > 0 || cb > 0 {
			s.log.Info("messages past their retention deleted", "messages", n, "callbacks_done", cb)
		}
		if n, err := s.desk.PurgeCallRecords(time.Now()); err != nil {
			s.log.Warn("deleting call records past their retention", "error", err)
		} else if n > 0 {
			s.log.Info("call records past their retention deleted", "calls", n)
		}
		s.console.SweepPops()
		s.desk.SweepPops()
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
