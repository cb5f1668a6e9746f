package call

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/CyCoreSystems/ari/v6"

	"github.com/toritsugi/toritsugi/pkg/config"
	"github.com/toritsugi/toritsugi/pkg/pbx"
	"github.com/toritsugi/toritsugi/pkg/queue"
	"github.com/toritsugi/toritsugi/pkg/store"
)

// actor owns one inbound call: one goroutine, a select over its inbox, its
// timer and its context. Nothing else touches its state. ARI events and the
// queue's decisions arrive through the same ordered inbox.
type actor struct {
	m     *Manager
	id    string // the caller's channel id, also the call id
	inbox *pbx.Inbox
	log   *slog.Logger

	// adopted is the channel's data when a restarted controller took it over
	adopted *ari.ChannelData
	// onAdopted, when set, is called once adopt returns.
	onAdopted func()
	// bridgeIn is the bridge the adopted channel is in (nil if none),
	// bridgesFor the bridges named for the adopted call (BridgeName), and
	// peerLive whether the peer leg bridgeIn's name gives is still up.
	bridgeIn   *ari.BridgeData
	bridgesFor []*ari.BridgeData
	peerLive   bool
	// saved is the live state the adopted call kept in the store ("" if
	// none or not read): it names the conversation's recording.
	saved string
	// startedAt, when set, is when the call came in (a call re-adopted
	// without saved state: the channel's creation time)
	startedAt time.Time

	client    *config.Client // nil for an unknown DID
	knownName string         // from the client's caller rules
	known     bool           // a caller rule with action known matched
	// vipWhisper is the VIP rule's own transfer whisper ("" = the client's)
	vipWhisper string
	// afterHoursBillable: the client bills after-hours calls.
	afterHoursBillable bool
	rec                store.CallRecord
	state              Persisted

	// the one playback we wait for, and what its end means
	playbackID string
	playbackOn string // the channel playbackID plays on
	// failed is the record before a command failed (fail), until the call
	// ends or the caller's hangup explains the failure.
	failed    *failure
	afterPlay func(state string)
	plays     int
	// leadIn is played before the next playback on the caller's channel:
	// the configuration's answer_silence, set when this controller
	// answered the caller and nothing has been played to them since.
	leadIn string
	// greetingNotice: the greeting playing (greetingID) ends with the
	// recording notice.
	greetingNotice bool

	legs map[string]*leg // operator channels by id
	op   *leg            // the operator who answered (whisper, bridge)
	xfer *leg            // the client's phone, answered, for a VIP
	// confirming is the client's phone, answered, while it is asked to
	// press 1 (config.Client.TransferConfirm).
	confirming *leg
	bridgeID   string
	queued     bool   // the queue knows this call
	moh        bool   // music on hold is playing to the caller
	musicClass string // the caller's CHANNEL(musicclass) as set by us ("": none)
	// bridgeRetrying is the bridge being made whose next try
	// bridgeRetryTimer runs (bridge.go): its own timer.
	bridgeRetrying   *bridging
	bridgeRetryTimer Timer
	// holding are the bridged channels whose phones hold the call now;
	// bridgeMOH: music on hold plays to the recorded bridge (hold.go).
	holding   map[string]bool
	bridgeMOH bool
	// mohRetry, while armed, asks Asterisk again to stop the music of
	// bridge mohRetryBridge (try mohRetryTry): its own timer.
	mohRetry       Timer
	mohRetryBridge string
	mohRetryTry    int
	// mediaRetry, while armed, asks Asterisk again for the waiting
	// caller's ringing or music on hold (try mediaTry): its own timer.
	mediaRetry Timer
	mediaTry   int
	// unbegun is the StasisStart that made the actor, until it is
	// handled: a controller stopping before that keeps the call from it.
	unbegun *ari.StasisStart
	// opReleased: the queue was told the operator's call ended
	opReleased bool

	hangupSent bool
	callerGone bool
	done       bool

	// timer runs onTimeout: a callback offer's or a transfer prompt's
	// wait for a key, a voicemail's guard.
	timer     Timer
	onTimeout func()
	// pendingPop is the screen pop of the operator popFor, shown once
	// their leg joins the bridge (popScreen).
	pendingPop *Connected
	popFor     *leg
	// callerJoined: the caller's ChannelEnteredBridge of bridgeID came (a
	// caller hanging up as the bridge is made is "added" and never joins);
	// reset when the bridge is dropped (dropBridge).
	callerJoined bool
	// playTimer cuts the playback we wait for (playbackID) if its end
	// never comes: its own timer, so that a playback's end, or a stopped
	// one's late PlaybackFinished, never cancels the timer above.
	playTimer Timer

	// ringback: the caller hears ringing while queued, unanswered, until
	// an operator answers or ringbackTimer (client.RingbackMax) fires.
	ringbackTimer Timer
	// hangupRetry, while armed, asks Asterisk again to hang the caller up
	// (try hangupTry): its own timer, so that no other (a playback's
	// timeout) can replace or cancel it.
	hangupRetry Timer
	hangupTry   int
	// callback request: the number, whether a 1/2 is awaited, and when
	// the offer was made (wall clock)
	callbackNumber string
	awaitingDigit  bool
	cb             callbackIVR
	offeredAt      time.Time
	// vmName is the voicemail being recorded, vmWhy why; vmDetect:
	// Asterisk was asked to detect silence in it (maxSilenceSeconds).
	vmName, vmWhy string
	vmDetect      bool
	// vmUnanswered: the request to record vmName got no answer, and no
	// event of the recording has come since (it may never have run).
	vmUnanswered bool
	// announceID is the position announcement playing to the caller;
	// greetingID the greeting (stopped if an operator answers first).
	announceID, greetingID string
}

// leg is one channel we originated: an operator's phone, or the client's
// phone for a VIP transfer (opID "").
type leg struct {
	id, opID string
	ring     uint64 // the queue's ring (RingOperator.Ring); 0 for a transfer
	// timeout is the queue's ring timeout (RingOperator.Timeout).
	timeout   time.Duration
	transfer  bool
	answered  bool // StasisStart seen
	cancelled bool // we hung it up
	hangingUp bool // ChannelHangupRequest seen
	gone      bool // destroyed / left Stasis
	// joined: ChannelEnteredBridge seen before any hangup request. A leg
	// hanging up as it is added is "added" with a 204 and never joins.
	joined bool
}

func (a *actor) key() *ari.Key { return ari.NewKey(ari.ChannelKey, a.id) }

func (a *actor) run(ctx context.Context) {
	defer a.m.release(a)
	if a.adopted != nil {
		a.adopt(a.adopted)
		if a.onAdopted != nil {
			a.onAdopted()
		}
	}
	for !a.done {
		var timeout, playTimeout, ringback, retryHangup, retryMOH, retryMedia, retryBridge <-chan time.Time
		if a.timer != nil {
			timeout = a.timer.C()
		}
		if a.playTimer != nil {
			playTimeout = a.playTimer.C()
		}
		if a.ringbackTimer != nil {
			ringback = a.ringbackTimer.C()
		}
		if a.hangupRetry != nil {
			retryHangup = a.hangupRetry.C()
		}
		if a.mohRetry != nil {
			retryMOH = a.mohRetry.C()
		}
		if a.mediaRetry != nil {
			retryMedia = a.mediaRetry.C()
		}
		if a.bridgeRetryTimer != nil {
			retryBridge = a.bridgeRetryTimer.C()
		}
		select {
		case <-ctx.Done():
			// Controller shutdown: the call lives on in Asterisk and is
			// re-adopted by the next controller; record nothing here,
			// but leave its state in the store: a caller who hangs up
			// before the next controller connects is recorded from it.
			a.log.Info("controller stopping; leaving call to be re-adopted")
			a.hangUpRingingLegs()
			a.keepForTheNext()
			a.stopTimer()
			a.stopPlayTimer()
			a.stopHangupRetry()
			if a.mohRetry != nil {
				a.mohRetry.Stop()
			}
			a.stopMediaRetry()
			a.stopBridgeRetry()
			return
		case <-a.inbox.Ready():
			a.handleWaiting()
		case <-ringback:
			a.ringbackTimer = nil
			a.ringbackExpired()
		case <-retryHangup:
			a.hangupRetry = nil
			a.sendHangup(a.hangupTry)
		case <-retryMOH:
			a.mohRetry = nil
			if a.bridgeID == a.mohRetryBridge && !a.bridgeMOH {
				a.stopBridgeMOH(a.mohRetryBridge, a.mohRetryTry)
			}
		case <-retryMedia:
			a.mediaRetry = nil
			a.retryCallerMedia()
		case <-retryBridge:
			a.retryBridge()
		case <-playTimeout:
			a.playTimer = nil
			a.note("playback did not finish in time")
			a.playbackEnded("timeout")
		case <-timeout:
			// What waits in the inbox came first (a key pressed as the
			// wait for it ended; select picks at random among ready
			// cases): handled first, it may stop or re-arm the timer.
			t := a.timer
			a.handleWaiting()
			if a.done || a.timer != t {
				continue
			}
			f := a.onTimeout
			a.timer, a.onTimeout = nil, nil
			if f != nil {
				f()
			}
		}
	}
}

// handleWaiting handles the events in the inbox, in order.
func (a *actor) handleWaiting() {
	for _, e := range a.inbox.Drain() {
		if a.done {
			return
		}
		if a.m.observer != nil {
			a.m.observer.EventHandling(e, time.Now())
		}
		a.handle(e)
	}
}

// after arms the actor's single timer.
func (a *actor) after(d time.Duration, f func()) {
	a.stopTimer()
	a.timer, a.onTimeout = a.m.clock.NewTimer(d), f
}

func (a *actor) stopTimer() {
	if a.timer != nil {
		a.timer.Stop()
		a.timer, a.onTimeout = nil, nil
	}
}

func (a *actor) stopPlayTimer() {
	if a.playTimer != nil {
		a.playTimer.Stop()
		a.playTimer = nil
	}
}

// forgetPlayback stops waiting for the playback we wait for (its end will
// mean nothing: it is being stopped, or a key cut it short) and returns
// its id ("" if none).
func (a *actor) forgetPlayback() string {
	id := a.playbackID
	a.playbackID, a.afterPlay = "", nil
	a.stopPlayTimer()
	return id
}

func (a *actor) stopRingback() {
	if a.ringbackTimer != nil {
		a.ringbackTimer.Stop()
		a.ringbackTimer = nil
	}
}

func (a *actor) handle(e ari.Event) {
	switch v := e.(type) {
	case *ari.StasisStart:
		if v.Channel.ID == a.id {
			a.unbegun = nil
			if a.state.Step == "" {
				a.begin(v.Args, &v.Channel)
			}
			return
		}
		a.legAnswered(v.Channel.ID)
	case *ari.PlaybackFinished:
		switch v.Playback.ID {
		case a.playbackID:
			a.playbackEnded(v.Playback.State)
		case a.greetingID:
			// The greeting ended while another playback is waited for
			// (the whisper: an operator answered during it).
			a.greetingEnded(v.Playback.State)
		case a.announceID:
			a.announcementEnded()
		}
	case *ari.ChannelDtmfReceived:
		switch {
		case v.Channel.ID == a.id:
			a.callbackAnswer(v.Digit)
		case a.confirming != nil && v.Channel.ID == a.confirming.id:
			a.transferKey(v.Digit)
		}
	case *ari.RecordingFinished:
		if v.Recording.Name == a.vmName && a.vmName != "" {
			a.vmUnanswered = false // it ran
			// A duration of 0 is 10 s of silence as well as a hang-up during
			// the beep, which records nothing: Asterisk says which.
			if a.silentMessage(v.Recording) && (v.Recording.Duration > 0 || a.messageStored(a.vmName)) {
				a.messageRecordedSilent()
			} else {
				a.messageRecorded(v.Recording.Duration > 0)
			}
		}
	case *ari.RecordingFailed:
		// Asterisk could not record (a full disk, the recordings
		// directory): no message, no conversation recording. The caller
		// must not wait in silence for voicemail_max.
		switch name := v.Recording.Name; {
		case name == "":
		case name == a.vmName:
			a.log.Error("voicemail recording failed", "recording", name, "cause", v.Recording.Cause)
			a.messageLost(v.Recording.Cause)
			a.vmUnanswered = false // told once
			a.messageRecorded(false)
		case name == a.rec.Recording:
			a.log.Error("call recording failed", "recording", name, "cause", v.Recording.Cause)
			a.rec.Recording, a.state.Recording = "", ""
			a.recordingFailed(v.Recording.Cause)
			// Kept as the store's live state too: a controller killed now
			// would otherwise name the failed recording in the record from
			// the state saved at the bridge, and not say why it has none.
			a.saveLive()
		}
	case *ari.ChannelEnteredBridge:
		switch l := a.legs[v.Channel.ID]; {
		case v.Channel.ID == a.id && !a.callerGone && v.Bridge.ID == a.bridgeID:
			// The bridge being made, not one dropped since (its event
			// late): the caller is in the conversation.
			a.callerJoined = true
		case l != nil && !l.hangingUp:
			l.joined = true
			// Not for a caller gone meanwhile: Asterisk goes on past a
			// hanging-up caller's failed add and puts the operator in
			// alone (resource_bridges.c), whose leg we hung up then.
			if a.popFor == l && !l.cancelled && !a.callerGone {
				a.popScreen()
			}
		}
	case *ari.ChannelHold:
		a.holdChanged(v.Channel.ID, true)
	case *ari.ChannelUnhold:
		a.holdChanged(v.Channel.ID, false)
	case *ari.ChannelHangupRequest:
		switch {
		case v.Channel.ID == a.id && !a.hangupSent:
			a.callerLeft()
		case v.Channel.ID == a.id && a.failed != nil && !v.Soft:
			// Not our DELETE's (soft): the caller hung up as a command failed.
			a.failureWasHangup()
			a.callerLeft()
		case a.legs[v.Channel.ID] != nil:
			a.legs[v.Channel.ID].hangingUp = true // its StasisEnd follows
		}
	case *ari.StasisEnd:
		if v.Channel.ID == a.id {
			a.callerLeft()
			a.finish()
			return
		}
		a.legGone(v.Channel.ID, 0)
	case *ari.ChannelDestroyed:
		if v.Channel.ID == a.id {
			a.callerLeft()
			a.finish()
			return
		}
		// How long it lived, in Asterisk's time: a ring a phone refused
		// ends well before the ring timeout, whatever its cause.
		var lived time.Duration
		if c := v.Channel.Creationtime; c != nil {
			lived = time.Time(v.Timestamp).Sub(time.Unix(c.Seconds, int64(c.Nanos)))
		}
		a.legEnded(v.Channel.ID, v.Cause, lived)
	case *queue.RingOperator:
		a.ring(v)
	case *queue.CancelRing:
		a.cancelRing(v.OpID, v.Ring, v.Reason)
	case *queue.Connect:
		a.connect(v.OpID, v.Ring)
	case *queue.Overflow:
		a.overflow(v.Reason)
	case *queue.Announce:
		a.announce(v.Position, v.ExpectedWait)
	case *pbx.Resync:
		a.resync(v)
	}
}

// play plays media on a channel and calls then with the playback's final
// state when it ends. A playback that never reports its end (Asterisk
// loses unplayable URI schemes) is cut by the greeting timeout.
func (a *actor) play(channelID, media string, then func(state string)) {
	a.playList(channelID, []string{media}, then)
}

// nextPlaybackID is the id the next play or playList gives its playback:
// saved with the state before it starts, it lets a re-adopting controller
// find the playback its predecessor left playing.
func (a *actor) nextPlaybackID() string { return playbackID(a.id, a.m.instance, a.plays+1) }

// awaitPlayback makes a playback a predecessor started on the caller (id)
// the one we wait for, then runs then, as if we had started it. It is
// false when Asterisk no longer has it (it ended while no controller
// watched, or the read failed): nothing is waited for.
func (a *actor) awaitPlayback(id string, then func()) bool {
	if _, err := a.m.ari.Playback().Data(ari.NewKey(ari.PlaybackKey, id)); err != nil {
		return false
	}
	a.stopPlayTimer()
	a.playbackID, a.playbackOn = id, a.id
	a.afterPlay = func(string) { then() }
	a.playTimer = a.m.clock.NewTimer(a.m.greetingTimeout)
	a.note("waiting for the playback the previous controller started")
	return true
}

// playList plays media one after another as one playback.
func (a *actor) playList(channelID string, media []string, then func(state string)) {
	a.plays++
	// Client-chosen ids let us match PlaybackFinished even when it races
	// the 201; the manager's instance token keeps a re-adopting controller
	// from reusing the id of a playback its predecessor left behind
	// (Asterisk would take it, and the old one's PlaybackFinished would be
	// taken for the new one's).
	a.stopPlayTimer() // a playback we waited for is not waited for any more
	a.playbackID = playbackID(a.id, a.m.instance, a.plays)
	shown := media
	if channelID == a.id && a.leadIn != "" {
		// Just answered: the audio path may not be up yet (ARI's answer
		// does not wait for it), and what is played first would be cut.
		a.note("lead-in after the answer: " + a.leadIn)
		media = append([]string{a.leadIn}, media...)
		a.leadIn = ""
	}
	a.afterPlay, a.playbackOn = then, channelID
	if err := a.sendPlay(channelID, media); err != nil {
		a.playbackID, a.afterPlay = "", nil
		if channelID == a.id && a.gone(err, "play") {
			return
		}
		refused := channelID == a.id && a.failed == nil && refusedWhileHangingUp(err)
		if refused {
			// The caller may be hanging up (Asterisk refuses commands
			// then): should their hangup follow the hang-up this failure
			// leads to, the call ends as theirs, not as a failed playback.
			a.failed = a.failure()
		}
		if channelID != a.id && pbx.IsNotFound(err) {
			// The operator's leg went away; its StasisEnd tells the rest.
			return
		}
		a.log.Error("playback failed", "media", media, "error", err)
		then("failed")
		if refused && !a.hangupSent {
			// The call went on (queued after a greeting that failed): the
			// refusal is no cause of how it ends later.
			a.failed = nil
		}
		return
	}
	if len(shown) > 0 { // a lead-in alone is noted above
		a.note("playing " + strings.Join(shown, ", "))
	}
	a.playTimer = a.m.clock.NewTimer(a.m.greetingTimeout)
}

// playTries bounds the tries of a play that never reached Asterisk.
const playTries = 3

// sendPlay asks Asterisk to play media on channelID as a.playbackID. A
// play that never reached Asterisk (every REST connection busy, each
// wait bounded by the request timeout) is sent again with the same id:
// Asterisk never saw it, and a greeting given up so would leave the
// caller without the client's name.
func (a *actor) sendPlay(channelID string, media []string) error {
	key := ari.NewKey(ari.ChannelKey, channelID)
	_, err := a.m.ari.Channel().Play(key, a.playbackID, media...)
	for try := 2; pbx.NotSent(err) && try <= playTries; try++ {
		a.log.Warn("playback not sent to Asterisk: trying again", "media", media, "error", err, "try", try)
		_, err = a.m.ari.Channel().Play(key, a.playbackID, media...)
	}
	return err
}

// playbackEnded runs what was to follow the playback, unless its channel
// is hanging up (the caller left or was hung up, a leg got its
// ChannelHangupRequest): Asterisk ends a channel's playback when the
// channel hangs up and reports it finished ("failed") between
// ChannelHangupRequest and StasisEnd, which ends the call (the caller) or
// the leg.
func (a *actor) playbackEnded(state string) {
	then := a.afterPlay
	a.forgetPlayback()
	if l := a.legs[a.playbackOn]; a.callerGone || (a.playbackOn == a.id && a.hangupSent) || (l != nil && l.hangingUp) {
		a.note("playback cut by the hangup")
		return
	}
	if then != nil {
		then(state)
	}
}

// note appends to the call's timeline.
func (a *actor) note(what string) {
	a.rec.Events = append(a.rec.Events, store.CallEvent{At: a.m.clock.Now(), What: what})
}

// saveState writes the call's state on its channel for re-adoption, and
// in the store (saveLive).
func (a *actor) saveState() bool {
	a.saveLive()
	if err := a.m.ari.Channel().SetVariable(a.key(), StateVar, a.state.Encode()); err != nil {
		if a.gone(err, "save state") {
			return false
		}
		a.log.Warn("saving call state on the channel failed", "error", err)
	}
	return true
}

// keepForTheNext saves the call's state in the store as the controller
// stops; a call not begun yet (its StasisStart came as the controller
// stopped) is kept as a new call (keepUnbegun).
// Nobody would ever record it otherwise if its caller hung up before the
// next controller connects (their StasisEnd goes to no websocket); nor a
// call decided (closed, blocked) whose state no step had saved yet.
func (a *actor) keepForTheNext() {
	switch {
	case a.state.Step != "":
		a.saveLive()
	case a.unbegun != nil:
		a.m.keepUnbegun(a.unbegun)
	}
}

// hangUpRingingLegs hangs up, at a controller stop, the operators' legs
// still ringing: nothing would put an operator who answers one through
// (they heard silence until the next start, if any, hung it up), and
// the re-adopted caller is rung again. Answered legs, bridged or in the
// whisper, and a VIP transfer's leg are left to the next controller.
//
// The hang-ups go side by side: each is bounded by ari.request_timeout,
// and one after another a ring-all call ringing ten operators of an
// Asterisk that does not answer held the stop 20 s. What hangupLeg
// changes (the leg cancelled) is changed here, on the actor's goroutine,
// before the requests go; they touch no state of the actor's (a failed
// one logs, and its retry, apart from the actor, ends with the stop).
func (a *actor) hangUpRingingLegs() {
	var ids []string
	for _, l := range a.legs {
		if l.answered || l.gone || l.cancelled || l.transfer {
			continue
		}
		a.log.Info("controller stopping; the operator's ring is hung up", "operator", l.opID, "leg", l.id)
		l.cancelled = true
		ids = append(ids, l.id)
	}
	var wg sync.WaitGroup
	for _, id := range ids {
		wg.Go(func() { a.m.hangupChannel(a.log, id, "normal") })
	}
	wg.Wait()
}

// saveLive keeps the call's state in the store until its record is
// stored: if the call ends while no controller runs (the caller hangs up
// during a restart), the next one records it from that (Manager.adopt).
func (a *actor) saveLive() {
	a.settledIntoState()
	a.m.rec.SaveLive(a.id, LiveState(a.rec.CallerID, a.state))
}

// settledIntoState copies what the record has settled (result, reason,
// wait) into the saved state.
func (a *actor) settledIntoState() {
	a.state.Result, a.state.Reason = string(a.rec.Result), a.rec.Reason
	a.state.Waited = time.Duration(a.rec.WaitMS) * time.Millisecond
}

// ending reports whether the call is over or on its way out (hung up by
// us, or by the caller): nothing may ring, connect or bridge it any more.
func (a *actor) ending() bool { return a.done || a.callerGone || a.hangupSent }
