package call

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/CyCoreSystems/ari/v6"

	"github.com/toritsugi/toritsugi/pkg/config"
	"github.com/toritsugi/toritsugi/pkg/pbx"
	"github.com/toritsugi/toritsugi/pkg/store"
)

// actor owns one inbound call: one goroutine, a select over its inbox, its
// timer and its context. Nothing else touches its state.
type actor struct {
	m     *Manager
	id    string // the caller's channel id, also the call id
	inbox *pbx.Inbox
	log   *slog.Logger

	// adopted is the channel's data when a restarted controller took it over
	adopted *ari.ChannelData

	rec        store.CallRecord
	state      Persisted
	playbackID string
	plays      int
	hangupSent bool
	callerGone bool
	done       bool
	guard      Timer
}

func (a *actor) key() *ari.Key { return ari.NewKey(ari.ChannelKey, a.id) }

func (a *actor) run(ctx context.Context) {
	defer a.m.release(a)
	if a.adopted != nil {
		a.adopt(a.adopted)
	}
	for !a.done {
		var timeout <-chan time.Time
		if a.guard != nil {
			timeout = a.guard.C()
		}
		select {
		case <-ctx.Done():
			// Controller shutdown: the call lives on in Asterisk and is
			// re-adopted by the next controller; record nothing here.
			a.log.Info("controller stopping; leaving call to be re-adopted")
			a.stopGuard()
			return
		case <-a.inbox.Ready():
			for _, e := range a.inbox.Drain() {
				if a.done {
					break
				}
				a.handle(e)
			}
		case <-timeout:
			a.guard = nil
			a.note("greeting did not finish in time")
			a.hangup("greeting timed out")
		}
	}
}

func (a *actor) handle(e ari.Event) {
	switch v := e.(type) {
	case *ari.StasisStart:
		if v.Channel.ID == a.id && a.state.Step == "" {
			a.begin(v.Args, &v.Channel)
		}
	case *ari.PlaybackFinished:
		if v.Playback.ID == a.playbackID {
			a.greetingDone(v.Playback.State)
		}
	case *ari.ChannelHangupRequest:
		if v.Channel.ID == a.id && !a.hangupSent {
			a.callerGone = true
			a.note("caller hung up")
		}
	case *ari.StasisEnd:
		if v.Channel.ID == a.id {
			a.finish()
		}
	case *ari.ChannelDestroyed:
		if v.Channel.ID == a.id {
			a.finish()
		}
	case *pbx.Resync:
		a.resync(v)
	}
}

// begin starts a call we saw enter Stasis (or adopted before any step).
func (a *actor) begin(args []string, ch *ari.ChannelData) {
	now := a.m.clock.Now()
	parsed, err := ParseArgs(args)
	a.rec = store.CallRecord{ID: a.id, StartedAt: now}
	if ch.Caller != nil {
		a.rec.CallerID = ch.Caller.Number
	}
	if err != nil || parsed.Leg != LegInbound {
		a.rec.Result, a.rec.Reason = store.ResultFailed, fmt.Sprintf("bad Stasis arguments %q", args)
		a.log.Warn("hanging up channel with unexpected Stasis arguments", "args", args)
		a.hangup(a.rec.Reason)
		return
	}
	a.rec.DID = parsed.DID
	a.state = Persisted{DID: parsed.DID, Step: StepNew, StartedAt: now}
	a.note("entered Stasis for DID " + parsed.DID)
	a.answerAndGreet(ch.State != "Up")
}

// answerAndGreet looks the client up by DID, saves the call state on the
// channel, answers and plays the greeting (or the unknown-DID announcement).
func (a *actor) answerAndGreet(needAnswer bool) {
	cfg := a.m.config()
	media := cfg.UnknownDIDSound
	client, ok := cfg.ClientByDID(a.state.DID)
	if ok {
		a.state.ClientID = client.ID
		a.rec.ClientID = client.ID
		media = client.Greeting
	} else {
		a.rec.Result, a.rec.Reason = store.ResultUnknownDID, "no client has DID "+a.state.DID
		a.log.Warn("call to unknown DID", "did", a.state.DID, "caller", a.rec.CallerID)
	}
	a.state.Step = StepGreeting
	if err := a.m.ari.Channel().SetVariable(a.key(), StateVar, a.state.Encode()); err != nil {
		if a.gone(err, "save state") {
			return
		}
	}
	if needAnswer {
		if err := a.m.ari.Channel().Answer(a.key()); err != nil {
			if a.gone(err, "answer") {
				return
			}
			a.fail("answer failed", err)
			return
		}
		a.rec.AnsweredAt = a.m.clock.Now()
		a.note("answered")
	}
	a.plays++
	// Client-chosen ids let us match PlaybackFinished even when it races
	// the 201; the manager's instance token keeps a re-adopting controller
	// from colliding with a playback its predecessor left behind (409).
	a.playbackID = fmt.Sprintf("%s-greeting-%s-%d", a.id, a.m.instance, a.plays)
	if _, err := a.m.ari.Channel().Play(a.key(), a.playbackID, media); err != nil {
		if a.gone(err, "play") {
			return
		}
		a.fail("greeting playback failed", err)
		return
	}
	a.note("playing " + media)
	a.guard = a.m.clock.NewTimer(a.m.greetingTimeout)
}

func (a *actor) greetingDone(state string) {
	a.stopGuard()
	a.playbackID = ""
	if state == "failed" {
		a.note("greeting media failed to play")
		if a.rec.Result == "" {
			a.rec.Result, a.rec.Reason = store.ResultFailed, "greeting media could not be played"
		}
	} else {
		a.note("greeting finished")
	}
	if a.rec.Result == "" {
		a.rec.Result, a.rec.Reason = store.ResultCompleted, "greeting played"
	}
	a.hangup(a.rec.Reason)
}

// hangup asks Asterisk to hang the caller up; StasisEnd then finishes the call.
func (a *actor) hangup(reason string) {
	if a.hangupSent || a.callerGone {
		return
	}
	a.hangupSent = true
	a.state.Step = StepHangup
	a.note("hanging up: " + reason)
	if err := a.m.ari.Channel().Hangup(a.key(), "normal"); err != nil {
		if a.gone(err, "hangup") {
			return
		}
		a.log.Error("hangup failed", "error", err)
		a.finish()
	}
}

// gone handles a REST error: a 404 means the channel has gone (the caller
// hung up before our command arrived) and the call is finished.
func (a *actor) gone(err error, what string) bool {
	if !pbx.IsNotFound(err) {
		return false
	}
	a.callerGone = true
	a.note(what + ": channel already gone")
	a.finish()
	return true
}

func (a *actor) fail(reason string, err error) {
	a.log.Error(reason, "error", err)
	a.rec.Result, a.rec.Reason = store.ResultFailed, fmt.Sprintf("%s: %v", reason, err)
	a.hangup(reason)
}

// finish stores the call record once.
func (a *actor) finish() {
	if a.done {
		return
	}
	a.done = true
	a.stopGuard()
	now := a.m.clock.Now()
	a.rec.EndedAt = now
	if a.rec.StartedAt.IsZero() {
		a.rec.StartedAt = now
	}
	switch {
	case a.callerGone && a.rec.Result == store.ResultUnknownDID:
		a.rec.Reason += "; caller hung up during the announcement"
	case a.callerGone && !a.hangupSent:
		a.rec.Result, a.rec.Reason = store.ResultAbandoned, "caller hung up during the greeting"
		if a.rec.AnsweredAt.IsZero() {
			a.rec.Reason = "caller hung up before the answer"
		}
	case a.rec.Result == "":
		a.rec.Result, a.rec.Reason = store.ResultFailed, "call ended unexpectedly"
	}
	a.note("ended: " + string(a.rec.Result))
	if err := a.m.rec.PutCall(a.rec); err != nil {
		a.log.Error("storing call record failed", "error", err, "call", a.id)
		return
	}
	a.log.Info("call ended", "result", a.rec.Result, "reason", a.rec.Reason, "client", a.rec.ClientID)
}

func (a *actor) note(what string) {
	a.rec.Events = append(a.rec.Events, store.CallEvent{At: a.m.clock.Now(), What: what})
}

func (a *actor) stopGuard() {
	if a.guard != nil {
		a.guard.Stop()
		a.guard = nil
	}
}

// resync reconciles the call after the event link came back: events raised
// meanwhile were lost.
func (a *actor) resync(r *pbx.Resync) {
	if !r.Live[a.id] {
		a.callerGone = !a.hangupSent
		a.note("channel gone while the ARI link was down")
		a.finish()
		return
	}
	if a.playbackID != "" {
		_, err := a.m.ari.Playback().Data(ari.NewKey(ari.PlaybackKey, a.playbackID))
		if pbx.IsNotFound(err) {
			a.note("greeting ended while the ARI link was down")
			a.greetingDone("done")
		}
	}
}

// adopt takes over a channel found in our application after a controller
// restart, continuing from the step saved on the channel.
func (a *actor) adopt(ch *ari.ChannelData) {
	raw, err := a.m.ari.Channel().GetVariable(a.key(), StateVar)
	if err != nil && !pbx.IsNotFound(err) {
		a.log.Error("re-adopt: reading call state failed", "error", err)
	}
	p, perr := DecodePersisted(raw)
	if err != nil || perr != nil {
		// We never saved state: the previous controller died right after
		// StasisStart. Start over from the dialplan's arguments.
		var args []string
		if ch.Dialplan != nil {
			if parsed, aerr := argsFromAppData(ch.Dialplan.AppData); aerr == nil {
				args = []string{"inbound", parsed.DID}
			}
		}
		a.log.Info("re-adopting call without saved state", "args", args)
		a.begin(args, ch)
		return
	}
	a.state = p
	a.rec = store.CallRecord{ID: a.id, DID: p.DID, ClientID: p.ClientID, StartedAt: p.StartedAt}
	if ch.Caller != nil {
		a.rec.CallerID = ch.Caller.Number
	}
	a.note("re-adopted after controller restart at step " + string(p.Step))
	a.log.Info("re-adopted call", "step", p.Step, "client", p.ClientID)
	switch p.Step {
	case StepHangup:
		a.rec.Result, a.rec.Reason = store.ResultCompleted, "greeting played"
		a.hangup(a.rec.Reason)
	default:
		// The greeting may have been cut by the restart: play it again.
		a.answerAndGreet(ch.State != "Up")
	}
}

// config returns the running configuration.
func (m *Manager) config() *config.Config { return m.cfg() }
