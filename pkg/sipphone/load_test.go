package sipphone

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

func TestLoadRunner(t *testing.T) {
	for _, tr := range []string{"udp", "tcp"} {
		t.Run(tr, func(t *testing.T) {
			pbx := newTestPBX(t, tr, nil, false)
			c := newTestCaller(t, tr)
			res, err := LoadRunner{Caller: c}.Run(t.Context(), LoadConfig{
				Call:        CallOptions{To: pbx.target("0312345678"), From: "0901234567", Hold: 100 * time.Millisecond},
				Rate:        20,
				Concurrency: 20,
				Duration:    time.Second,
			})
			if err != nil {
				t.Fatal(err)
			}
			if res.Started < 18 || res.Started > 22 || res.Answered != res.Started || res.Failed != 0 {
				t.Fatalf("result %+v", res)
			}
			if res.Answer.N != res.Answered || res.Answer.P50 <= 0 || res.Answer.P50 > res.Answer.P95 || res.Answer.P95 > res.Answer.P99 {
				t.Errorf("percentiles %+v", res.Answer)
			}
			var b bytes.Buffer
			if err := res.WriteTable(&b); err != nil || !strings.Contains(b.String(), "INVITE->200") {
				t.Errorf("table: %v\n%s", err, b.String())
			}
		})
	}
}

func TestLoadRunnerCountsFailures(t *testing.T) {
	pbx := newTestPBX(t, "udp", nil, false)
	c := newTestCaller(t, "udp")
	res, err := LoadRunner{Caller: c}.Run(t.Context(), LoadConfig{Call: CallOptions{To: pbx.target("busy"), From: "1"}, Rate: 20, Concurrency: 5, Duration: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if res.Failed == 0 || res.ByStatus[486] != res.Failed || res.Answered != 0 {
		t.Fatalf("result %+v", res)
	}
}

func TestPercentile(t *testing.T) {
	var d []time.Duration
	for i := 100; i >= 1; i-- {
		d = append(d, time.Duration(i)*time.Millisecond)
	}
	got := Percentile(d)
	want := Percentiles{N: 100, P50: 50 * time.Millisecond, P95: 95 * time.Millisecond, P99: 99 * time.Millisecond, Max: 100 * time.Millisecond}
	if got != want {
		t.Fatalf("got %+v want %+v", got, want)
	}
	if (Percentile(nil) != Percentiles{}) {
		t.Fatal("empty sample")
	}
}
