package store_test

import (
	"fmt"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

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
