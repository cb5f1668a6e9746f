package call

import (
	"fmt"
	"time"

	"github.com/CyCoreSystems/ari/v6"

	"github.com/toritsugi/toritsugi/pkg/pbx"
)

// Waiting callers: ringback and position announcements.

// ringback queues the caller before answering: they hear ringing, as a
// receptionist's phone would, until an operator answers. After the
// client's ringback_max they are answered, greeted and held on music.
func (a *actor) ringback() {
	if !a.ringCaller(1) {
		return
	}
	a.note("ringback")
	first := a.state.EnqueuedAt.IsZero()
	if first {
		a.state.EnqueuedAt = a.m.clock.Now()
	}
	a.state.Step = StepQueued
	if !a.saveState() {
		return
	}
	a.queued = true
	a.noteQueued()
	c := a.queueCall()
	c.New = first // a full line turns a new caller away (max_callers)
	a.m.queue.Enqueue(c, a.inbox)
	a.ringbackTimer = a.m.clock.NewTimer(ringbackLeft(a.client.RingbackMax, a.state.EnqueuedAt, a.m.clock.Now()))
}

// ringCaller has Asterisk ring the unanswered caller (try: the
// request's); a request that fails is asked again later while the caller
// waits in line (callerMediaFailed). False when the call is over.
func (a *actor) ringCaller(try int) bool {
	err := a.m.ari.Channel().Ring(a.key())
	switch {
	case err == nil:
		a.stopMediaRetry()
	case a.gone(err, "ring"):
		return false
	default:
		a.callerMediaFailed("ringback", err, try)
	}
	return true
}

// A waiting caller's ringing (before the answer) or music on hold (after)
// that Asterisk did not take is asked for again: soon after the first
// failure (a spike passes), then every mediaRetryEvery, mediaTries
// requests in all; not once the caller has left the line (an operator
// answered, overflow, hangup). Silence would last the whole wait.
const (
	mediaTries      = 6
	mediaRetryFirst = 100 * time.Millisecond
	mediaRetryEvery = 2 * time.Second
)

// callerMediaFailed: request try for the waiting caller's ringing or
// music (what) failed with err; asked again later, on the actor's own
// timer (mediaRetry), while tries are left.
func (a *actor) callerMediaFailed(what string, err error, try int) {
	a.stopMediaRetry()
	if try >= mediaTries {
		a.log.Error(what+" failed: the waiting caller hears silence", "error", err, "tries", try)
		a.note(what + " failed: the caller hears silence")
		return
	}
	in := mediaRetryEvery
	if try == 1 {
		in = mediaRetryFirst
		a.note(what + " failed: asking again")
	}
	a.log.Warn(what+" failed: asking again", "error", err, "try", try, "in", in)
	a.mediaRetry, a.mediaTry = a.m.clock.NewTimer(in), try+1
}

func (a *actor) stopMediaRetry() {
	if a.mediaRetry != nil {
		a.mediaRetry.Stop()
		a.mediaRetry = nil
	}
}

// retryCallerMedia asks again for what the waiting caller should hear
// now: ringing before the answer, music on hold after it, unless it plays
// already or something else does (a greeting, an announcement: their end
// starts the music).
func (a *actor) retryCallerMedia() {
	// Holding: in line, or while the client's phone is called for a VIP
	// (until the bridge).
	holding := a.queued && a.op == nil || a.state.Step == StepTransfer && a.bridgeID == ""
	switch {
	case a.ending() || !holding:
		// Out of line: an operator or the client took the call, or it
		// is ending.
	case a.rec.AnsweredAt.IsZero():
		a.ringCaller(a.mediaTry)
	case a.moh || a.playbackID != "" || a.announceID != "":
	default:
		a.holdMusic(a.mediaTry)
	}
}

// ringbackLeft is how much longer a caller who first heard ringing at
// since may ring. The limit (ringback_max) counts from the first ring:
// a caller back in line (their operator left before the bridge) or
// re-adopted after a restart rings no longer than the client allows.
func ringbackLeft(limit time.Duration, since, now time.Time) time.Duration {
	return max(0, limit-now.Sub(since))
}

// ringbackExpired: nobody answered in time; answer and greet, still queued.
func (a *actor) ringbackExpired() {
	if !a.queued || a.op != nil || a.done || a.callerGone {
		return
	}
	a.note("no operator within the ringback time: answering")
	a.greet(true, a.greetedInLine)
	a.state.Step = StepQueued
	a.saveState()
}

// announce tells a waiting caller their position and expected wait,
// between stretches of music on hold.
func (a *actor) announce(position int, wait time.Duration) {
	if !a.queued || a.op != nil || a.announceID != "" || a.playbackID != "" || a.rec.AnsweredAt.IsZero() {
		return // not on hold (ringback, greeting, ringing an operator...)
	}
	if !a.stopMOH() {
		return
	}
	a.announceID = announcementID(a.id)
	media := Announcement(position, wait)
	if _, err := a.m.ari.Channel().Play(a.key(), a.announceID, media...); err != nil {
		a.announceID = ""
		if a.gone(err, "announce") {
			return
		}
		a.log.Warn("position announcement failed", "error", err)
		a.startMOH()
		return
	}
	a.note(fmt.Sprintf("announced position %d, expected wait %s", position, wait.Round(time.Second)))
}

// announcementID is the playback id of a caller's position
// announcements: the same for every one (one plays at a time) and for
// every controller, so that one re-adopting the call after a restart can
// stop an announcement the one before started. Left playing, it would
// hold up the caller's next command (Asterisk runs a channel's commands
// after its playback): answering an operator's ring, the bridge's
// addChannel would time out and the call fail.
func announcementID(callID string) string { return callID + "-announce" }

func (a *actor) announcementEnded() {
	a.announceID = ""
	if a.queued && a.op == nil && !a.done && !a.callerGone {
		a.startMOH()
	}
}

// stopCallerMedia stops what plays to the caller before the bridge.
func (a *actor) stopCallerMedia() {
	if a.greetingID != "" && a.greetingID == a.playbackID {
		// Stopped: its PlaybackFinished must not run what was to follow
		// the greeting.
		a.forgetPlayback()
	}
	for _, id := range []string{a.announceID, a.greetingID} {
		if id != "" {
			a.stopPlayback(id)
		}
	}
	a.announceID, a.greetingID, a.greetingNotice = "", "", false
}

// stopPlayback stops playback id; one that has already ended is fine.
func (a *actor) stopPlayback(id string) {
	err := a.m.ari.Playback().Stop(ari.NewKey(ari.PlaybackKey, id))
	switch {
	case err == nil || pbx.IsNotFound(err):
	case pbx.StatusCode(err) == 500:
		// res_stasis_playback stops a playback only once a sound of it
		// has played: a number said alone runs to its end.
		a.log.Debug("a playback Asterisk cannot stop runs to its end", "playback", id)
	default:
		a.log.Warn("stopping a playback failed", "playback", id, "error", err)
	}
}

// Announcement is the media for a position announcement, built from
// Asterisk's core queue prompts as app_queue plays them (say_position):
// "you are next" at position 1, otherwise queue-thereare, the caller's
// own position, queue-callswaiting; then "the estimated hold time is M
// minutes" when known. The prompts were recorded for app_queue, which
// says the caller's position there, not the number of callers ahead.
func Announcement(position int, wait time.Duration) []string {
	var m []string
	if position <= 1 {
		m = append(m, "sound:queue-youarenext")
	} else {
		m = append(m, "sound:queue-thereare", fmt.Sprintf("number:%d", position), "sound:queue-callswaiting")
	}
	if mins := int(wait.Round(time.Minute) / time.Minute); mins > 0 {
		m = append(m, "sound:queue-holdtime", fmt.Sprintf("number:%d", mins), "sound:queue-minutes")
	}
	return m
}
