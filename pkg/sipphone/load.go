package sipphone

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"sort"
	"sync"
	"time"
)

// LoadConfig is a call-rate profile.
type LoadConfig struct {
	Call        CallOptions
	Rate        float64 // calls started per second
	Concurrency int     // at most this many calls at once
	Duration    time.Duration
}

// LoadResult summarises a load run.
type LoadResult struct {
	Started, Answered, Failed, Skipped int
	// ByStatus counts final status codes; 0 means no final response (timeout or transport error).
	ByStatus map[int]int
	// Answer is INVITE→200 latency; FirstRTP is 200→first RTP.
	Answer, FirstRTP Percentiles
	Elapsed          time.Duration
}

// Percentiles of a latency sample.
type Percentiles struct {
	N             int
	P50, P95, P99 time.Duration
	Max           time.Duration
}

// Percentile computes nearest-rank percentiles of d (which it sorts).
func Percentile(d []time.Duration) Percentiles {
	if len(d) == 0 {
		return Percentiles{}
	}
	slices.Sort(d)
	rank := func(p float64) time.Duration {
		i := int(p*float64(len(d))+0.999999) - 1
		return d[min(max(i, 0), len(d)-1)]
	}
	return Percentiles{N: len(d), P50: rank(0.50), P95: rank(0.95), P99: rank(0.99), Max: d[len(d)-1]}
}

// LoadRunner runs a LoadConfig with a Caller.
type LoadRunner struct {
	Caller *Caller
}

// Run starts calls at cfg.Rate for cfg.Duration (skipping a tick when
// Concurrency calls are already up) and waits for all of them to end.
func (l LoadRunner) Run(ctx context.Context, cfg LoadConfig) (LoadResult, error) {
	if cfg.Rate <= 0 || cfg.Duration <= 0 {
		return LoadResult{}, errors.New("load: rate and duration must be positive")
	}
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = 1
	}
	res := LoadResult{ByStatus: map[int]int{}}
	var (
		mu       sync.Mutex
		answer   []time.Duration
		firstRTP []time.Duration
		wg       sync.WaitGroup
		slots    = make(chan struct{}, cfg.Concurrency)
	)
	start := l.Caller.clock.Now()
	interval := time.Duration(float64(time.Second) / cfg.Rate)
	tick := time.NewTicker(interval)
	defer tick.Stop()
	end := time.NewTimer(cfg.Duration)
	defer end.Stop()
	launch := func() {
		select {
		case slots <- struct{}{}:
		default:
			res.Skipped++
			return
		}
		res.Started++
		wg.Go(func() {
			defer func() { <-slots }()
			r, err := l.Caller.Call(ctx, cfg.Call)
			mu.Lock()
			defer mu.Unlock()
			res.ByStatus[r.StatusCode]++
			if err != nil || r.StatusCode/100 != 2 {
				res.Failed++
				return
			}
			res.Answered++
			answer = append(answer, r.Answered)
			if r.FirstRTP > 0 {
				firstRTP = append(firstRTP, r.FirstRTP)
			}
		})
	}
	launch()
loop:
	for {
		select {
		case <-ctx.Done():
			break loop
		case <-end.C:
			break loop
		case <-tick.C:
			launch()
		}
	}
	wg.Wait()
	res.Elapsed = l.Caller.clock.Now().Sub(start)
	res.Answer, res.FirstRTP = Percentile(answer), Percentile(firstRTP)
	return res, nil
}

// WriteTable prints the result as a plain-text table.
func (r LoadResult) WriteTable(w io.Writer) error {
	ms := func(d time.Duration) string { return fmt.Sprintf("%.1fms", float64(d)/float64(time.Millisecond)) }
	var err error
	p := func(format string, a ...any) {
		if err == nil {
			_, err = fmt.Fprintf(w, format, a...)
		}
	}
	p("calls started %d  answered %d  failed %d  skipped (concurrency) %d  elapsed %s\n", r.Started, r.Answered, r.Failed, r.Skipped, r.Elapsed.Round(time.Millisecond))
	p("%-18s %6s %10s %10s %10s %10s\n", "latency", "n", "p50", "p95", "p99", "max")
	for _, row := range []struct {
		name string
		p    Percentiles
	}{{"INVITE->200", r.Answer}, {"200->first RTP", r.FirstRTP}} {
		p("%-18s %6d %10s %10s %10s %10s\n", row.name, row.p.N, ms(row.p.P50), ms(row.p.P95), ms(row.p.P99), ms(row.p.Max))
	}
	codes := make([]int, 0, len(r.ByStatus))
	for c := range r.ByStatus {
		codes = append(codes, c)
	}
	sort.Ints(codes)
	p("%-18s %6s\n", "final status", "count")
	for _, c := range codes {
		label := fmt.Sprint(c)
		if c == 0 {
			label = "none (error)"
		}
		p("%-18s %6d\n", label, r.ByStatus[c])
	}
	return err
}
