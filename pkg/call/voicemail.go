package call

import (
	"time"

	"github.com/CyCoreSystems/ari/v6"

	"github.com/toritsugi/toritsugi/pkg/pbx"
	"github.com/toritsugi/toritsugi/pkg/store"
)

// Voicemail: after the overflow or after-hours message the caller hears the
// prompt and a beep and leaves a message (ended by '#', by hanging up or at
// voicemail_max). The message is stored by Asterisk as a recording named in
// the call record; relaying it to the client is the relay's job.

// Why a caller leaves a voicemail, as its record's reason says.
const (
	whyOverflow   = "overflow"
	whyAfterHours = "after hours"
)

// voicemailWhy is why a call whose result was decided as r (before the
// message) leaves one.
func voicemailWhy(r store.Result) string {
	if r == store.ResultAfterHours {
		return whyAfterHours
	}
	return whyOverflow
}

// voicemailLeft is the reason of a call that left a voicemail, and why.
func voicemailLeft(why string) string { return "voicemail left (" + why + ")" }

// voicemail records a message; why is whyOverflow or whyAfterHours.
func (a *actor) voicemail(why string) {
	if a.ending() {
		return
	}
	a.note("voicemail (" + why + ")")
	if a.client.VoicemailPrompt == "" {
		if a.leadIn != "" {
			// Just answered, nothing heard yet: the lead-in first, or
			// the recording's beep would be cut.
			a.playList(a.id, nil, func(string) { a.recordMessage(why) })
			return
		}
		a.recordMessage(why)
		return
	}
	// A restart during the prompt waits for it to end, then records: it
	// used to play the prompt again after the first.
	a.state.Step, a.state.Then, a.state.Playback, a.state.Prompt = StepHangup, ThenVoicemail+why, a.nextPlaybackID(), true
	if !a.saveState() {
		return
	}
	a.play(a.id, a.client.VoicemailPrompt, func(string) { a.recordMessage(why) })
}

func (a *actor) recordMessage(why string) {
	if a.done || a.callerGone {
		return
	}
	a.plays++
	name := RecordingName(a.id, true, a.m.recordingTag)
	// A restarted controller must know the message is being recorded. The
	// state goes first: Asterisk runs a variable set on the channel's
	// Stasis thread, which the recording holds until the message ends.
	a.state.Step, a.state.Recording, a.state.Then, a.state.Playback, a.state.Prompt = StepVoicemail, name, "", "", false
	silence := a.client.VoicemailMaxSilence
	a.state.SilenceDetected = silence > 0
	if !a.saveState() {
		return
	}
	_, err := a.m.ari.Channel().Record(a.key(), name, &ari.RecordingOptions{
		Format: "wav", MaxDuration: a.client.VoicemailMax, MaxSilence: silence,
		Beep: true, Terminate: "#", Exists: "overwrite",
	})
	if err != nil {
		if a.gone(err, "record voicemail") {
			return
		}
		if !recordingMayRun(err) {
			// Refused, or never sent: no message will be recorded. The
			// caller is hung up, and the client told it was lost.
			a.log.Error("recording a voicemail failed", "recording", name, "error", err)
			if refusedWhileHangingUp(err) {
				// The caller may be hanging up (Asterisk refuses commands
				// then): should their hangup follow, no message was lost.
				a.failed = a.failure()
			}
			a.messageLost(err.Error())
			a.hangup(a.rec.Reason)
			return
		}
		// No answer in time (Asterisk under load): it may record all the
		// same, the caller hearing the beep and speaking. The recording's
		// end settles it (RecordingFinished, RecordingFailed), or its
		// guard or the call's end by what Asterisk stored; nothing stored
		// then is a message lost (messageEnded).
		a.log.Warn("the voicemail's record request got no answer; waiting for the message in case Asterisk records it", "recording", name, "error", err)
		a.note("the message's record request got no answer: waiting in case Asterisk records it")
		a.vmUnanswered = true
	}
	a.vmName, a.vmWhy, a.vmDetect = name, why, silence > 0
	a.guardMessage()
}

// messageLost notes that the message the caller was asked for could not
// be recorded (cause): the record says so (VoicemailFailed), and the
// client's notice that it was lost.
func (a *actor) messageLost(cause string) {
	a.note("the message could not be recorded: " + cause)
	a.rec.VoicemailFailed, a.state.VoicemailFailed = true, true
}

// guardMessage settles the message being recorded if its end is never
// reported. Asterisk ends a recording by itself at MaxDuration: a message
// that outlives it by this much ended unseen (its RecordingFinished lost
// with the link, and the re-sync unable to ask), and the stored recording
// says whether it was left.
func (a *actor) guardMessage() {
	a.after(a.client.VoicemailMax+30*time.Second, func() { a.messageRecorded(a.messageStored(a.vmName)) })
}

// messageRecorded ends a message's recording (RecordingFinished, its
// guard, or a re-sync that found it ended), left or not, and the call.
func (a *actor) messageRecorded(left bool) {
	if a.vmName == "" {
		return
	}
	a.stopTimer()
	a.messageEnded(left)
	a.hangup(a.rec.Reason)
}

// silentTalk is the most talking Asterisk reports of a message nobody
// spoke in: its sum (main/app.c __ast_play_and_record) keeps the first
// 200 ms of every silence and rounds down, so that a recording of silence
// alone ended by maxSilenceSeconds reports 1 s of talking, and one the
// caller hung up on 0 or 1 s.
const silentTalk = time.Second

// silentMessage reports whether the finished recording r of the message
// had nothing said in it: Asterisk detected silence in it (asked to) and
// at most silentTalk of talking. Its duration says nothing then: the same
// sum takes the trailing silence from it, and ten seconds of silence alone
// report 0 or 1 s as the last second's fraction falls (a CI run found
// a test taking 0 for no message at all).
func (a *actor) silentMessage(r ari.LiveRecordingData) bool {
	return a.vmDetect && time.Duration(r.Talking) <= silentTalk
}

// messageRecordedSilent ends the call of a message recorded with nothing
// said in it (a caller who hung up after the beep without a word, a line
// left open): no voicemail, its result the overflow's or after hours';
// the recording is kept on the record, and the client is told of the call
// with it, as such (the detection may miss a word or two).
func (a *actor) messageRecordedSilent() {
	a.stopTimer()
	a.rec.Recording, a.rec.VoicemailSilent, a.state.VoicemailSilent = a.vmName, true, true
	a.note("message recorded with nothing said in it: " + a.vmName)
	a.vmName = ""
	a.saveState() // for the record of a restart before the hang-up ends
	a.hangup(a.rec.Reason)
}

// messageEnded settles the message being recorded: left, or not. None
// stored of a recording whose request got no answer, and that never
// reported it ran (vmUnanswered), is a message lost: Asterisk most likely
// never recorded it.
func (a *actor) messageEnded(left bool) {
	switch {
	case left:
		a.rec.Result = store.ResultVoicemail
		a.rec.Reason = voicemailLeft(a.vmWhy)
		a.rec.Recording = a.vmName
		a.note("message recorded: " + a.vmName)
	case a.vmUnanswered:
		a.messageLost("its record request got no answer, and no message was stored")
	default:
		a.note("no message left")
	}
	a.vmName, a.vmUnanswered = "", false
}

// messageUnfinished settles, as the call ends, a message whose
// RecordingFinished never came (lost while the ARI link was down):
// Asterisk keeps the message when the caller hangs up, so a stored
// recording is the message.
func (a *actor) messageUnfinished() {
	if a.vmName == "" {
		return
	}
	a.messageEnded(a.messageStored(a.vmName))
}

// messageStored asks Asterisk whether message name is stored, for a
// recording that ended unseen. When Asterisk fails to answer, the message
// is taken as left: a relayed message that may have no recording beats a
// message never relayed.
func (a *actor) messageStored(name string) bool {
	_, err := a.m.ari.StoredRecording().Data(ari.NewKey(ari.StoredRecordingKey, name))
	if err != nil && !pbx.IsNotFound(err) {
		a.log.Warn("asking Asterisk for the message failed; recorded as left", "recording", name, "error", err)
		return true
	}
	return err == nil
}

// resumeVoicemail re-adopts a call whose caller was leaving a message when
// the controller restarted (saved state p): the recording went on in
// Asterisk. Why the caller was leaving it (after hours, overflow) is the
// result saved with it.
func (a *actor) resumeVoicemail(p Persisted) {
	name := p.Recording
	a.rec.Result, a.rec.Reason = store.ResultOverflow, "re-adopted while recording a voicemail"
	if r := store.Result(p.Result); r.Valid() {
		a.rec.Result, a.rec.Reason = r, p.Reason
	}
	if p.VoicemailSilent {
		// It ended with nothing said in it before the restart; the
		// hang-up did not come.
		a.vmName, a.vmWhy = name, voicemailWhy(a.rec.Result)
		a.messageRecordedSilent()
		return
	}
	// Asked to detect silence as the saved state says (a reload since may
	// have changed the client's setting).
	a.vmName, a.vmWhy, a.vmDetect = name, voicemailWhy(a.rec.Result), p.SilenceDetected
	if _, err := a.m.ari.LiveRecording().Data(ari.NewKey(ari.LiveRecordingKey, name)); pbx.IsNotFound(err) {
		// It finished while we were away: is the message stored?
		a.messageRecorded(a.messageStored(name))
		return
	}
	a.guardMessage()
}
