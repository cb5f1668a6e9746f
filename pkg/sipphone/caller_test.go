package sipphone

import (
	"context"
	"errors"
	"testing"
	"time"
)

func newTestCaller(t *testing.T, transport string) *Caller {
	t.Helper()
	c, err := NewCaller(t.Context(), CallerConfig{EndpointConfig: EndpointConfig{Transport: transport}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func TestCallAnsweredMediaBothWaysAndBye(t *testing.T) {
	for _, tr := range []string{"udp", "tcp"} {
		t.Run(tr, func(t *testing.T) {
			pbx := newTestPBX(t, tr, nil, false)
			c := newTestCaller(t, tr)
			ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
			defer cancel()
			res, err := c.Call(ctx, CallOptions{To: pbx.target("0312345678"), From: "0901234567", Hold: 400 * time.Millisecond, DTMF: "1#"})
			if err != nil {
				t.Fatalf("call: %v", err)
			}
			if res.StatusCode != 200 || res.HungUpBy != "local" {
				t.Fatalf("status %d hung up by %q", res.StatusCode, res.HungUpBy)
			}
			if res.Trying <= 0 || res.Ringing < res.Trying || res.Answered < res.Ringing {
				t.Errorf("timings not ordered: 100=%v 180=%v 200=%v", res.Trying, res.Ringing, res.Answered)
			}
			if res.FirstRTP <= 0 || res.Media.Sent == 0 || res.Media.Received == 0 {
				t.Errorf("media: first=%v stats=%+v", res.FirstRTP, res.Media)
			}
			if res.Media.DTMFSent != "1#" || res.Media.DTMFReceived != "1#" {
				t.Errorf("dtmf sent %q echoed back %q", res.Media.DTMFSent, res.Media.DTMFReceived)
			}
			if _, ok := res.Remote.Codec("PCMU"); !ok {
				t.Errorf("answer lacks PCMU: %+v", res.Remote)
			}
			select {
			case <-pbx.ended:
			case <-ctx.Done():
				t.Fatal("PBX never saw the BYE")
			}
			if len(pbx.packets()) == 0 {
				t.Error("PBX received no RTP")
			}
		})
	}
}

func TestCallRejectedBusy(t *testing.T) {
	pbx := newTestPBX(t, "udp", nil, false)
	c := newTestCaller(t, "udp")
	res, err := c.Call(t.Context(), CallOptions{To: pbx.target("busy"), From: "0901234567", Hold: time.Second})
	if !errors.Is(err, ErrRejected) || res.StatusCode != 486 {
		t.Fatalf("got %d, %v; want 486 ErrRejected", res.StatusCode, err)
	}
}

func TestCallDigestAuth(t *testing.T) {
	pbx := newTestPBX(t, "udp", map[string]string{"trunk": "s3cret"}, true)
	c := newTestCaller(t, "udp")
	res, err := c.Call(t.Context(), CallOptions{To: pbx.target("0312345678"), From: "0901234567", Hold: 100 * time.Millisecond, Username: "trunk", Password: "s3cret"})
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("authenticated call: %d %v", res.StatusCode, err)
	}
	res, err = c.Call(t.Context(), CallOptions{To: pbx.target("0312345678"), From: "0901234567", Hold: 100 * time.Millisecond, Username: "trunk", Password: "wrong"})
	if !errors.Is(err, ErrRejected) || res.StatusCode != 401 {
		t.Fatalf("wrong password: %d %v", res.StatusCode, err)
	}
}
