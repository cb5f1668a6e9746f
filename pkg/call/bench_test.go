package call_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/toritsugi/toritsugi/pkg/aritest"
	"github.com/toritsugi/toritsugi/pkg/call"
	"github.com/toritsugi/toritsugi/pkg/config"
	"github.com/toritsugi/toritsugi/pkg/pbx"
	"github.com/toritsugi/toritsugi/pkg/store"
)

// notifyingRecorder stores through the real bbolt store and signals each record.
type notifyingRecorder struct {
	*store.Store // the rest of call.Recorder
	mu           sync.Mutex
	done         map[string]chan struct{}
}

func (r *notifyingRecorder) wait(id string) chan struct{} {
	r.mu.Lock()
	defer r.mu.Unlock()
	ch, ok := r.done[id]
	if !ok {
		ch = make(chan struct{})
		r.done[id] = ch
	}
	return ch
}

func (r *notifyingRecorder) PutCall(rec store.CallRecord) error {
	err := r.Store.PutCall(rec)
	close(r.wait(rec.ID))
	return err
}

// BenchmarkGreetingCallFlow measures whole call flows through the
// controller (real ARI client, real websocket, real bbolt file) against the
// fake Asterisk on loopback: StasisStart → set state → answer → play →
// PlaybackFinished → hangup → StasisEnd → record stored. `parallel` calls
// are in flight at once.
func BenchmarkGreetingCallFlow(b *testing.B) {
	for _, parallel := range []int{1, 32} {
		b.Run(fmt.Sprintf("parallel=%d", parallel), func(b *testing.B) {
			fake, err := aritest.New(aritest.Options{})
			if err != nil {
				b.Fatal(err)
			}
			defer fake.Close()
			fake.AddSound("bench", 0)
			fake.AddSound("silence/1", 0) // answer_silence's lead-in, 0 s as the greeting
			cfg, err := config.Parse("bench.yaml", []byte(fmt.Sprintf(`
ari: {url: %s, user: toritsugi, password: toritsugi}
data_dir: /nonexistent
clients:
  - {id: acme, name: ACME, dids: ["03-1234-5678"], greeting: "sound:bench"}
operators:
  - {id: op1001, name: op, endpoint: PJSIP/op1001, clients: ["*"]}
`, fake.URL())), nil)
			if err != nil {
				b.Fatal(err)
			}
			st, err := store.Open(b.TempDir()+"/bench.db", store.Options{})
			if err != nil {
				b.Fatal(err)
			}
			defer st.Close()
			rec := &notifyingRecorder{Store: st, done: map[string]chan struct{}{}}
			log := slog.New(slog.NewTextHandler(io.Discard, nil))
			ctx, cancel := context.WithCancel(context.Background())
			disp := pbx.NewDispatcher(pbx.Hooks{}, log)
			link, err := pbx.New(pbx.Options{URL: cfg.ARI.URL, User: "toritsugi", Password: "toritsugi", App: "toritsugi", Logger: log}, disp)
			if err != nil {
				b.Fatal(err)
			}
			mgr := call.NewManager(ctx, call.Deps{ARI: link.Client(), Dispatcher: disp, Config: func() *config.Config { return cfg }, Recorder: rec, Logger: log})
			disp.SetHooks(mgr.Hooks())
			stopped := make(chan struct{})
			go func() { _ = link.Run(ctx); mgr.Wait(); close(stopped) }()
			defer func() { cancel(); <-stopped }()
			wctx, wcancel := context.WithTimeout(ctx, 10*time.Second)
			defer wcancel()
			if err := fake.WaitConnected(wctx, 1); err != nil {
				b.Fatal(err)
			}
			for !link.Up() {
				time.Sleep(time.Millisecond)
			}

			sem := make(chan struct{}, parallel)
			var wg sync.WaitGroup
			b.ResetTimer()
			start := time.Now()
			for i := 0; i < b.N; i++ {
				sem <- struct{}{}
				id, err := fake.IncomingCall("0312345678", "0901234567")
				if err != nil {
					b.Fatal(err)
				}
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-rec.wait(id)
					<-sem
				}()
			}
			wg.Wait()
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "calls/s")
		})
	}
}
