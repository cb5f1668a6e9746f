package store_test

import (
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/toritsugi/toritsugi/pkg/store"
	"github.com/toritsugi/toritsugi/pkg/store/storetest"
)

// BenchmarkPutCall measures one durable insert (a committed, fsynced
// transaction) of a record with a short timeline.
func BenchmarkPutCall(b *testing.B) {
	s := storetest.Open(b)
	r := rec("", "acme", base, store.ResultAnswered, true)
	r.Events = []store.CallEvent{{At: base, What: "stasis-start"}, {At: base.Add(time.Second), What: "answered"}}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		r.ID = "call-" + strconv.Itoa(i)
		r.StartedAt = base.Add(time.Duration(i) * time.Second)
		if err := s.PutCall(r); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPutCallParallel measures durable inserts from concurrent
// writers (call actors finishing together), batched and one commit each.
func BenchmarkPutCallParallel(b *testing.B) {
	for _, each := range []bool{false, true} {
		b.Run(fmt.Sprintf("commitEach=%v", each), func(b *testing.B) {
			s := openMode(b, each)
			var n atomic.Int64
			b.ReportAllocs()
			b.SetParallelism(16)
			b.RunParallel(func(pb *testing.PB) {
				r := rec("", "acme", base, store.ResultAnswered, true)
				for pb.Next() {
					i := n.Add(1)
					r.ID = "call-" + strconv.FormatInt(i, 10)
					r.StartedAt = base.Add(time.Duration(i) * time.Second)
					if err := s.PutCall(r); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}

// BenchmarkCallRecordSize: what a stored call record takes in the file,
// records of an ordinary answered call (seven timeline lines) written 10,000
// at a time: the data's size (bbolt's high-water mark, pages in use and
// free) per call, for planning the disk (call records are kept).
func BenchmarkCallRecordSize(b *testing.B) {
	for b.Loop() {
		b.StopTimer()
		s := storetest.Open(b)
		b.StartTimer()
		const n = 10000
		var wg sync.WaitGroup
		errs := make(chan error, n)
		for w := range 100 {
			wg.Go(func() {
				for i := w; i < n; i += 100 {
					at := base.Add(time.Duration(i) * time.Minute)
					r := rec(fmt.Sprintf("1796%06d.%d", i, i), "acme", at, store.ResultAnswered, true)
					r.OperatorID, r.WaitMS, r.AnsweredAt, r.BridgedAt, r.EndedAt = "op1001", 12000, at, at.Add(12*time.Second), at.Add(3*time.Minute)
					r.Events = []store.CallEvent{{At: at, What: "entered Stasis for DID 0312345678"}, {At: at, What: "answered"},
						{At: at, What: "playing sound:toritsugi/acme-greeting"}, {At: at, What: "queued"}, {At: at, What: "ringing op1001"},
						{At: at, What: "bridged with op1001"}, {At: at, What: "ended: answered"}}
					errs <- s.PutCall(r)
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				b.Fatal(err)
			}
		}
		var size int64
		if err := s.Bolt().View(func(tx *bolt.Tx) error { size = tx.Size(); return nil }); err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(size)/n, "bytes/call")
	}
}

// BenchmarkPurgeCalls: call_record_retention_days' purge of 10,000
// records past the retention (ordinary answered calls, seven timeline
// lines) among 1,000 kept: the time per record deleted, and per batch
// (500 records, one write transaction: how long a call's record may wait
// for the writer meanwhile).
func BenchmarkPurgeCalls(b *testing.B) {
	const old, kept = 10000, 1000
	for b.Loop() {
		b.StopTimer()
		s := storetest.Open(b)
		// Written by 32 writers at once (batched commits: one commit
		// each would take minutes).
		var wg sync.WaitGroup
		next := atomic.Int64{}
		for range 32 {
			wg.Go(func() {
				for i := int(next.Add(1)) - 1; i < old+kept; i = int(next.Add(1)) - 1 {
					r := rec("call-"+strconv.Itoa(i), "acme", base.Add(time.Duration(i-old)*time.Minute), store.ResultAnswered, true)
					for j := range 7 {
						r.Events = append(r.Events, store.CallEvent{At: r.StartedAt.Add(time.Duration(j) * time.Second), What: "a timeline line of an ordinary call"})
					}
					if err := s.PutCall(r); err != nil {
						b.Error(err)
						return
					}
				}
			})
		}
		wg.Wait()
		b.StartTimer()
		n, err := s.PurgeCalls(base, nil, nil)
		if err != nil || n != old {
			b.Fatalf("PurgeCalls = %d, %v; want %d", n, err, old)
		}
	}
	perRecord := float64(b.Elapsed().Nanoseconds()) / float64(b.N*old)
	b.ReportMetric(perRecord/1e3, "µs/record")
	b.ReportMetric(perRecord*500/1e6, "ms/batch")
	b.ReportMetric(0, "ns/op")
}
