package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/toritsugi/toritsugi/pkg/api"
	"github.com/toritsugi/toritsugi/pkg/config"
	"github.com/toritsugi/toritsugi/pkg/controller"
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
	cfg, err := config.Load(*path)
	if err != nil {
		return err
	}
	log := newLogger(stderr, cfg.LogLevel)
	svc, err := newService(cfg, *path, log)
	if err != nil {
		return err
	}
	defer svc.close()

	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)

	ln, err := net.Listen("tcp", cfg.HTTP.Listen)
	if err != nil {
		return fmt.Errorf("http listen: %w", err)
	}
	return svc.run(ctx, ln, hup)
}

// service is the wired-up controller plus its HTTP API.
type service struct {
	log     *slog.Logger
	configs *config.Store
	store   *store.Store
	core    *controller.Controller
	ctx     context.Context
	cancel  context.CancelFunc
}

func newService(cfg *config.Config, path string, log *slog.Logger) (*service, error) {
	if err := os.MkdirAll(cfg.DataDir, 0o750); err != nil {
		return nil, fmt.Errorf("data dir: %w", err)
	}
	st, err := store.Open(filepath.Join(cfg.DataDir, "toritsugi.db"), store.Options{Timeout: 2 * time.Second, Logger: log})
	if err != nil {
		return nil, err
	}
	s := &service{log: log, store: st, configs: config.NewStore(path, cfg, log)}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.core, err = controller.New(s.ctx, controller.Options{
		Config: s.configs.Current, Updates: s.configs.Subscribe(), Recorder: st, Store: st, Callbacks: st, Logger: log,
	})
	if err != nil {
		s.cancel()
		st.Close()
		return nil, err
	}
	return s, nil
}

// run serves until ctx ends: the ARI link, the HTTP API and config reloads.
func (s *service) run(ctx context.Context, ln net.Listener, hup <-chan os.Signal) error {
	srv := &http.Server{
		Handler:           api.NewHandler(api.Deps{Calls: s.store, LinkUp: s.core.Up, Logger: s.log.With("part", "api")}),
		ReadHeaderTimeout: 5 * time.Second,
	}
	errc := make(chan error, 3)
	done := make(chan struct{})
	go func() { defer close(done); _ = s.core.Run(s.ctx) }()
	go func() {
		if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			errc <- fmt.Errorf("http: %w", err)
		}
	}()
	go func() { _ = s.configs.Watch(s.ctx, hup) }()
	s.log.Info("toritsugi serving", "http", ln.Addr().String(), "ari", s.configs.Current().ARI.URL)

	var err error
	select {
	case <-ctx.Done():
	case err = <-errc:
	}
	s.log.Info("shutting down")
	shut, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	_ = srv.Shutdown(shut)
	s.cancel()
	<-done
	return err
}

func (s *service) close() {
	s.cancel()
	if err := s.store.Close(); err != nil {
		s.log.Error("closing store", "error", err)
	}
}

func newLogger(w io.Writer, level string) *slog.Logger {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		lv = slog.LevelInfo
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: lv}))
}
