package store_test

import (
	"strconv"
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
