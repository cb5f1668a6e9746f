package controller_test

import (
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/CyCoreSystems/ari/v6"
	"github.com/toritsugi/toritsugi/pkg/acd"
	"github.com/toritsugi/toritsugi/pkg/aritest"
	"github.com/toritsugi/toritsugi/pkg/store"
)

var soakSeed = flag.Uint64("soak.seed", 0, "run TestSoak with this seed only (0: the fixed seeds)")

// TestSoak: 40 calls for three clients arrive at random moments, and
// about half of their callers hang up at a random moment (greeting,
// ringback, queue, announcement, ringing, whisper, talk, voicemail,
// callback offer), against phones that answer fast, slowly, never, busy,
// or hang up during the whisper, one registering half way and one whose
// registration flaps; VIP callers are transferred to a client phone that
// answers or not, blocked callers refused, keys pressed at random, the
// callback offer answered. Whatever the order of events, the invariants
// hold: every call ends with one record whose result fits its client and
// caller and whose billing fits its result; a callback request exists
// exactly for the calls that say so; the month's counters equal the
// records; no operator is on two calls at once; at the end Asterisk holds
// no channel and every operator is free (or paused after the no-answers).
// A failing seed replays with -soak.seed.
func TestSoak(t *testing.T) { runSoaks(t, []uint64{1, 2, 3}, soakCalm) }

// TestSoakWithRestart: the same, with the controller stopped half way and
// a new one started a moment later: callers who hang up meanwhile, and
// calls that end meanwhile, are recorded by the new one; the others are
// re-adopted. The invariants are the same.
func TestSoakWithRestart(t *testing.T) { runSoaks(t, []uint64{11, 12, 13}, soakRestart) }

// TestSoakWithLinkDrops: the same, with the ARI websocket dropped three
// times at random moments: events raised while it is down are lost, and
// the controller re-syncs each call with Asterisk when it reconnects.
func TestSoakWithLinkDrops(t *testing.T) { runSoaks(t, []uint64{21, 22, 23}, soakLinkDrops) }

// TestSoakWithRestartAndLinkDrops: both, as when Asterisk's side flaps
// while the service is redeployed.
func TestSoakWithRestartAndLinkDrops(t *testing.T) {
	runSoaks(t, []uint64{31, 32, 33}, soakRestart|soakLinkDrops)
}

// TestSoakWithForwardedEvents: the same, with every channel event of the
// operators' phones sent a second time through their endpoint
// subscription, as Asterisk's app.c may (it forwards an endpoint's whole
// topic): the calls take a repeat as nothing new, and the operators'
// own calls' events, foreign to them, as nothing at all.
func TestSoakWithForwardedEvents(t *testing.T) { runSoaks(t, []uint64{41, 42}, soakForwarded) }

// TestSoakWithHangupWindow: the same, with every hangup taking Asterisk's
// time between its request and StasisEnd, and between StasisEnd and the
// channel's destruction (aritest.Options.HangupWindow): commands sent
// meanwhile are taken and come to nothing, or refused with 500, 409, 422.
func TestSoakWithHangupWindow(t *testing.T) {
	runSoaks(t, []uint64{51, 52}, soakHangupWindow)
	t.Run("restart and link drops", func(t *testing.T) {
		runSoaks(t, []uint64{53}, soakHangupWindow|soakRestart|soakLinkDrops)
	})
}

// runSoaks runs the soak once per seed, or with -soak.seed's only.
func runSoaks(t *testing.T, seeds []uint64, trouble soakTrouble) {
	if *soakSeed != 0 {
		seeds = []uint64{*soakSeed}
	}
	for _, seed := range seeds {
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) { soak(t, seed, trouble) })
	}
}

// soakTrouble is what else befalls the soak's calls.
type soakTrouble int

const (
	soakCalm         soakTrouble = 0
	soakRestart      soakTrouble = 1 << iota // the controller is stopped half way, and another started
	soakLinkDrops                            // the ARI websocket drops three times
	soakForwarded                            // operators' phones' channel events come twice
	soakHangupWindow                         // hangups take time, as in Asterisk
)

// soakHangupWindow's stages: long against a command's round trip here.
const soakHangupStage = 300 * time.Millisecond

// soakConfig: acme greets, whispers, records, overflows to voicemail,
// transfers VIPs (0901…) and refuses 0909…; beta rings back and hangs up
// on overflow; gamma offers a callback on overflow.
const soakConfig = `
queue: {ring_timeout: 15s, max_wait: 1500ms, wrapup: 0s, auto_pause_after: 3}
clients:
  - id: acme
    name: 株式会社ACME
    short_name: ACME
    dids: ["03-1234-5678"]
    greeting: sound:toritsugi/acme-greeting
    whisper_sound: sound:beep
    record: true
    overflow: voicemail
    voicemail_max: 30s
    transfer_to: 03-9999-0000
    transfer_timeout: 5s
    callers:
      - {match: "0901*", action: vip, name: 重要顧客}
      - {match: "0909*", action: block, block_mode: hangup}
  - id: beta
    name: ベータ
    dids: ["03-2222-2222"]
    greeting: sound:toritsugi/beta-greeting
    answer_mode: ringback
    ringback_max: 200ms
  - id: gamma
    name: ガンマ
    dids: ["03-3333-3333"]
    greeting: sound:toritsugi/gamma-greeting
    overflow: callback
    callback_prompt: sound:toritsugi/callback-offer
operators:
  - {id: op1, name: 一, endpoint: PJSIP/op1, clients: ["*"]}
  - {id: op2, name: 二, endpoint: PJSIP/op2, clients: ["*"]}
  - {id: op3, name: 三, endpoint: PJSIP/op3, clients: ["beta"]}
  - {id: op4, name: 四, endpoint: PJSIP/op4, clients: ["acme"]}
  - {id: op5, name: 五, endpoint: PJSIP/op5, clients: ["*"]}
  - {id: op6, name: 六, endpoint: PJSIP/op6, clients: ["*"]}
`

// soakCall is one call the soak placed, and what its caller does.
type soakCall struct {
	id, client, number string
	leave              time.Duration // after the call's arrival; 0: stays to the end
}

// soakRun is one soak: its harness, its controller (replaced by a
// restart), its random draws (on the test goroutine only, so a seed
// replays the same run) and what it scheduled.
type soakRun struct {
	t       *testing.T
	h       *harness
	running *running
	rng     *rand.Rand
	trouble soakTrouble
	pending sync.WaitGroup // hang-ups, keys, registration flaps and drops to come
	calls   []soakCall
	written *writtenEvents
}

// writtenEvents counts, by channel, the events the fake handed to a
// websocket's writer (aritest.Options.OnEventSent) and those a controller
// read (its pbx.Observer), and keeps the REST requests the fake read
// (OnRequest).
type writtenEvents struct {
	mu   sync.Mutex
	n    map[string]int
	read map[string]int
	reqs []aritest.ReceivedRequest
}

// EventRead implements pbx.Observer: a controller read e.
func (w *writtenEvents) EventRead(e ari.Event, _ time.Time) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, k := range e.Keys() {
		if k.Kind == ari.ChannelKey {
			w.read[k.ID]++
		}
	}
}

func (w *writtenEvents) EventHandling(ari.Event, time.Time)                    {}
func (w *writtenEvents) RequestSent(string, string, string, []byte, time.Time) {}

// readOf counts the events of channel a controller read.
func (w *writtenEvents) readOf(channel string) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.read[channel]
}

func (w *writtenEvents) request(r aritest.ReceivedRequest) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.reqs = append(w.reqs, r)
}

// asked reports whether a REST request named channel (a controller knew
// the call: adopted from the listing, its StasisStart lost).
func (w *writtenEvents) asked(channel string) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.ContainsFunc(w.reqs, func(r aritest.ReceivedRequest) bool { return r.Mentions(channel) })
}

func (w *writtenEvents) note(e aritest.SentEvent) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.n[e.Channel]++
}

func (w *writtenEvents) of(channel string) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.n[channel]
}

// soak runs one seed: places the calls, waits for what it scheduled, and
// checks the invariants.
func soak(t *testing.T, seed uint64, trouble soakTrouble) {
	r := newSoakRun(t, seed, trouble)
	defer r.pending.Wait()
	r.placeCalls(40)
	r.pending.Wait()
	recs := r.checkRecords()
	r.checkTalks(recs)
	r.checkEnd()
	if t.Failed() || testing.Verbose() {
		var b strings.Builder
		for _, p := range r.calls {
			fmt.Fprintf(&b, "%s %s leave=%v: %s (%s)\n", p.id, p.client, p.leave, recs[p.id].Result, recs[p.id].Reason)
		}
		t.Logf("seed %d, trouble %d (rerun: go test -run '^%s$' -soak.seed %d ./pkg/controller)\n%s", seed, trouble, strings.Split(t.Name(), "/")[0], seed, b.String())
	}
}

// newSoakRun starts the fake with the soak's phones, and a controller.
func newSoakRun(t *testing.T, seed uint64, trouble soakTrouble) *soakRun {
	written := &writtenEvents{n: map[string]int{}, read: map[string]int{}}
	opts := aritest.Options{ForwardEndpointChannels: trouble&soakForwarded != 0, OnEventSent: written.note, OnRequest: written.request}
	if trouble&soakHangupWindow != 0 {
		opts.HangupWindow = soakHangupStage
	}
	h := newHarnessFake(t, soakConfig, opts)
	h.observer = written
	// The soak checks what each call came to, not how fast: under the
	// race detector on a loaded machine a request answered after the
	// controller's 2 s failed its call (as with an Asterisk that did not
	// answer), once in CI here (seed 3, an answer).
	h.cfg.ARI.RequestTimeout = 10 * time.Second
	h.announceEvery(300 * time.Millisecond)
	for _, s := range []string{"beep", "vm-nobodyavail", "vm-intro", "queue-youarenext", "queue-thereare", "queue-callswaiting", "toritsugi/callback-offer", "toritsugi/callback-thanks"} {
		h.fake.AddSound(s, time.Second)
	}
	// Asterisk time: 1 s here is 10 ms of test time. Talks last long enough
	// (0.6 to 1.5 s of test time) that callers queue, overflow and leave at
	// every step.
	h.fake.AddEndpoint("PJSIP/op1", true, aritest.EndpointBehavior{Answer: aritest.AnswerAfter, Delay: time.Second, HangupAfter: 100 * time.Second})
	h.fake.AddEndpoint("PJSIP/op2", true, aritest.EndpointBehavior{Answer: aritest.AnswerAfter, Delay: 8 * time.Second, HangupAfter: 60 * time.Second})
	h.fake.AddEndpoint("PJSIP/op3", true, aritest.EndpointBehavior{Answer: aritest.NoAnswer})
	h.fake.AddEndpoint("PJSIP/op4", true, aritest.EndpointBehavior{Answer: aritest.Busy, Delay: 2 * time.Second})
	h.fake.AddEndpoint("PJSIP/op5", false, aritest.EndpointBehavior{Answer: aritest.AnswerAfter, Delay: 3 * time.Second, HangupAfter: 150 * time.Second})
	// op6 hangs up during the whisper (or, when the fake's timers run late
	// under load, just after the bridge).
	h.fake.AddEndpoint("PJSIP/op6", true, aritest.EndpointBehavior{Answer: aritest.AnswerAfter, Delay: time.Second, HangupAfter: 500 * time.Millisecond})
	// The client's own phone, for VIP callers: it answers, or not, as the seed says.
	client := aritest.EndpointBehavior{Answer: aritest.AnswerAfter, Delay: 2 * time.Second, HangupAfter: 30 * time.Second}
	h.confirmWait = 300 * time.Millisecond
	running := h.start()
	h.eventually("operators known", func() bool { return h.operatorState("op1") == acd.Available })

	rng := rand.New(rand.NewPCG(seed, seed^0x5eed))
	if rng.IntN(2) == 0 {
		client = aritest.EndpointBehavior{Answer: aritest.NoAnswer}
	}
	h.fake.SetRemoteNumber("0399990000", client)
	return &soakRun{t: t, h: h, running: running, rng: rng, trouble: trouble, written: written}
}

// later runs f after d, counted in pending.
func (r *soakRun) later(d time.Duration, f func()) {
	r.pending.Add(1)
	time.AfterFunc(d, func() {
		defer r.pending.Done()
		f()
	})
}

// placeCalls places n calls at random moments, each with what its caller
// will do, and the troubles of the run around them.
func (r *soakRun) placeCalls(n int) {
	t, h, rng := r.t, r.h, r.rng
	for i := range n {
		time.Sleep(time.Duration(rng.IntN(60)) * time.Millisecond)
		did, client := "0312345678", "acme"
		switch rng.IntN(3) {
		case 1:
			did, client = "0322222222", "beta"
		case 2:
			did, client = "0333333333", "gamma"
		}
		// A VIP (0901…) or blocked (0909…) number now and then: only acme
		// has rules for them.
		number := fmt.Sprintf("0905%07d", i)
		switch rng.IntN(8) {
		case 0:
			number = fmt.Sprintf("0901%07d", i)
		case 1:
			number = fmt.Sprintf("0909%07d", i)
		}
		if i == 20 {
			// Half way, op5 comes online: it is rung for the callers who wait.
			if err := h.fake.Register("PJSIP/op5"); err != nil {
				t.Fatal(err)
			}
			if r.trouble&soakRestart != 0 {
				r.running.stop()
				time.Sleep(time.Duration(50+rng.IntN(250)) * time.Millisecond)
				r.running = h.start()
			}
		}
		if i%10 == 3 {
			// op2's softphone loses its registration for a moment.
			away := time.Duration(50+rng.IntN(200)) * time.Millisecond
			r.later(time.Duration(rng.IntN(300))*time.Millisecond, func() {
				_ = h.fake.Unregister("PJSIP/op2")
				time.Sleep(away)
				_ = h.fake.Register("PJSIP/op2")
			})
		}
		if i%10 == 7 {
			// op1 calls a customer back from the softphone for a moment:
			// not rung meanwhile, rung again after.
			talk := time.Duration(50+rng.IntN(250)) * time.Millisecond
			r.later(time.Duration(rng.IntN(300))*time.Millisecond, func() {
				own, err := h.fake.OutboundCall("PJSIP/op1", "0312340000")
				if err != nil {
					t.Error(err)
					return
				}
				time.Sleep(talk)
				_ = h.fake.RemoteHangup(own)
			})
		}
		if r.trouble&soakLinkDrops != 0 && i%13 == 6 {
			r.later(time.Duration(rng.IntN(400))*time.Millisecond, h.fake.DropWebSockets)
		}
		id, err := h.fake.IncomingCall(did, number)
		if errors.Is(err, aritest.ErrAppInactive) {
			// The link is down (soakLinkDrops): Asterisk keeps the call in
			// its dialplan's fallback; toritsugi never sees it.
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		p := soakCall{id: id, client: client, number: number}
		if rng.IntN(2) == 0 {
			p.leave = time.Duration(1+rng.IntN(1500)) * time.Millisecond
			r.later(p.leave, func() {
				_ = h.fake.RemoteHangup(p.id) // the call may be over already
			})
		}
		// Some press a key at some moment: at any moment but the callback
		// offer the key must change nothing.
		if rng.IntN(3) == 0 {
			digit := string("12#"[rng.IntN(3)])
			r.later(time.Duration(1+rng.IntN(2500))*time.Millisecond, func() {
				_ = h.fake.SendDTMF(p.id, digit) // the call may be over already
			})
		}
		// gamma's callers who hear the callback offer answer 1 or 2, or
		// let it time out.
		if client == "gamma" && rng.IntN(3) != 0 {
			digit := string("12"[rng.IntN(2)])
			r.later(0, func() {
				for deadline := time.Now().Add(4 * time.Second); time.Now().Before(deadline); time.Sleep(2 * time.Millisecond) {
					c, ok := h.fake.Channel(p.id)
					if !ok {
						return
					}
					if slices.ContainsFunc(c.Playing, func(m string) bool { return strings.Contains(m, "callback-offer") || strings.HasPrefix(m, "digits:") }) {
						_ = h.fake.SendDTMF(p.id, digit)
						return
					}
				}
			})
		}
		r.calls = append(r.calls, p)
	}
}

// checkRecords checks each call's record against what its caller did, and
// the month's counters against the records; it returns the records.
func (r *soakRun) checkRecords() map[string]store.CallRecord {
	t, h := r.t, r.h
	results := map[string][]store.Result{
		// overflow: a caller whose # ended the recording at once left no
		// message
		"acme":  {store.ResultAnswered, store.ResultAbandoned, store.ResultVoicemail, store.ResultOverflow, store.ResultTransferred, store.ResultBlocked},
		"beta":  {store.ResultAnswered, store.ResultAbandoned, store.ResultOverflow},
		"gamma": {store.ResultAnswered, store.ResultAbandoned, store.ResultOverflow},
	}
	// With restarts or link drops, a call no event of which a controller
	// ever read and no request of which a controller made (its StasisStart
	// queued on, or written to, a websocket that closed before it was
	// read, its caller gone before a link was up again: a link drop as the
	// controller restarts) reached no controller, as it would reach none
	// with Asterisk, whose ARI keeps no history: it cannot be recorded,
	// and is not checked. A run of them would be a fault of ours: at most
	// two a seed.
	seen, unseen := r.calls[:0], 0
	for _, p := range r.calls {
		if r.trouble&(soakRestart|soakLinkDrops) != 0 && r.written.readOf(p.id) == 0 && !r.written.asked(p.id) {
			if _, err := h.store.Call(p.id); err != nil {
				if _, ok := h.fake.Channel(p.id); !ok {
					t.Logf("%s: no event of it was read by a controller (%d written to a websocket), no request named it, and it ended: no controller could see it", p.id, r.written.of(p.id))
					unseen++
					continue
				}
			}
		}
		seen = append(seen, p)
	}
	r.calls = seen
	if unseen > 2 {
		t.Errorf("%d calls no controller could see: a link drop loses one now and then, not so many", unseen)
	}
	recs := map[string]store.CallRecord{}
	for _, p := range r.calls {
		recs[p.id] = h.record(p.id)
	}
	// Read once every call is recorded: a request is stored before its
	// call's record.
	callbacks, err := h.store.Callbacks("")
	if err != nil {
		t.Fatal(err)
	}
	callbackFor := map[string]store.Callback{}
	for _, cb := range callbacks {
		callbackFor[cb.ID] = cb
	}
	billable := map[string]int{}
	total := map[string]int{}
	for _, p := range r.calls {
		rec := recs[p.id]
		total[p.client]++
		if rec.Billable {
			billable[p.client]++
		}
		if rec.ClientID != p.client || !slices.Contains(results[p.client], rec.Result) {
			t.Errorf("call %s for %s (leaves after %v): %s %s (%s); want one of %v; timeline %v", p.id, p.client, p.leave, rec.ClientID, rec.Result, rec.Reason, results[p.client], rec.Events)
		}
		blocked := p.client == "acme" && strings.HasPrefix(p.number, "0909")
		if blocked != (rec.Result == store.ResultBlocked) {
			t.Errorf("call %s from %s for %s: %s (%s)", p.id, p.number, p.client, rec.Result, rec.Reason)
		}
		if rec.Result == store.ResultTransferred && !strings.HasPrefix(p.number, "0901") {
			t.Errorf("call %s from %s transferred to the client: not a VIP", p.id, p.number)
		}
		if cb, ok := callbackFor[p.id]; ok != (rec.Reason == "overflow: callback requested") || ok && (cb.ClientID != "gamma" || cb.Number != "+81"+p.number[1:]) {
			t.Errorf("call %s (%s): callback %+v, stored %v", p.id, rec.Reason, cb, ok)
		}
		switch rec.Result {
		case store.ResultBlocked:
			if rec.Billable {
				t.Errorf("blocked call %s billed", p.id)
			}
		case store.ResultTransferred:
			if !rec.Billable {
				t.Errorf("transferred call %s not billed", p.id)
			}
		case store.ResultAnswered:
			if !rec.Billable || rec.OperatorID == "" {
				t.Errorf("answered call %s: billable %v, operator %q", p.id, rec.Billable, rec.OperatorID)
			}
		case store.ResultAbandoned, store.ResultOverflow:
			if rec.Billable {
				t.Errorf("%s call %s billed", rec.Result, p.id)
			}
		}
		if p.leave == 0 && rec.Result == store.ResultAbandoned {
			t.Errorf("call %s abandoned, but its caller never hung up: %s; timeline %v", p.id, rec.Reason, rec.Events)
		}
	}
	month := recs[r.calls[0].id].StartedAt
	for client, n := range total {
		c, err := h.store.MonthlyCounts(client, month)
		if err != nil {
			t.Fatal(err)
		}
		if c.Total != n || c.Billable != billable[client] {
			t.Errorf("%s counters: %d calls, %d billable; the records say %d and %d", client, c.Total, c.Billable, n, billable[client])
		}
	}
	return recs
}

// checkTalks checks that no operator talked on two calls at once, and
// that the phones that never answer were never bridged.
func (r *soakRun) checkTalks(recs map[string]store.CallRecord) {
	t := r.t
	// No operator on two calls at once: each conversation runs from the
	// caller's bridge with that operator to the call's end. (Not from the
	// first bridge: a VIP bridged with the client who hung up as it was
	// made goes on to an operator, and the client's bridge is no
	// operator's talk.)
	type talk struct {
		call     string
		from, to time.Time
	}
	byOp := map[string][]talk{}
	for id, rec := range recs {
		if rec.OperatorID == "" {
			continue
		}
		if from := eventAt(rec, "bridged with "+rec.OperatorID); !from.IsZero() {
			byOp[rec.OperatorID] = append(byOp[rec.OperatorID], talk{id, from, talkEnd(rec, from)})
		}
	}
	for op, ts := range byOp {
		slices.SortFunc(ts, func(a, b talk) int { return a.from.Compare(b.from) })
		for i := 1; i < len(ts); i++ {
			if ts[i].from.Before(ts[i-1].to) {
				t.Errorf("%s on %s (from %v) before %s ended (%v)", op, ts[i].call, ts[i].from, ts[i-1].call, ts[i-1].to)
			}
		}
	}
	if len(byOp["op3"])+len(byOp["op4"]) > 0 {
		t.Errorf("operators who never answer were bridged: %v", byOp)
	}
}

// checkEnd checks the end state: the link back after its drops, no
// channel left, every operator free or paused.
func (r *soakRun) checkEnd() {
	h := r.h
	if r.trouble&soakLinkDrops != 0 {
		h.eventually("the link back", r.running.c.Link.Up)
		if n := r.running.c.Link.Connects(); n < 2 {
			r.t.Errorf("the link connected %d times: the drops did not happen", n)
		}
	}
	h.eventually("no channels left", func() bool { return len(h.fake.Channels()) == 0 })
	h.eventually("every operator free", func() bool {
		for _, op := range h.snapshot().Operators {
			if op.State != acd.Available && op.State != acd.Paused || op.OtherCall {
				return false
			}
		}
		return true
	})
}

// talkEnd is when the queue was told a conversation that began at from
// was over (the operator free again): the first hang-up after it on the
// call's timeline, which comes before the record's end; the record's end
// if none is there.
func talkEnd(r store.CallRecord, from time.Time) time.Time {
	for _, e := range r.Events {
		if e.At.Before(from) {
			continue
		}
		if strings.HasPrefix(e.What, "hanging up: ") || e.What == "caller hung up" || strings.HasSuffix(e.What, " hung up") {
			return e.At
		}
	}
	return r.EndedAt
}
