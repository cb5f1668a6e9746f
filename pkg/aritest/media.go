package aritest

import (
	"strings"
	"time"
)

type playback struct {
	id, media, target, state string
	// next lists the media still to play after media (a playlist: ARI's
	// media parameter takes several URIs).
	next  []string
	app   string
	timer Stopper
	// holds: it runs on its target's thread (started, or about to);
	// canceled: stopped while queued, to be reported finished when its
	// turn comes.
	holds, canceled bool
	// controllable: a sound: or recording: item has started (sticky, as
	// res_stasis_playback's flag): only then can the playback be stopped;
	// a playback of digits:, number: or characters: alone cannot (500).
	controllable bool
}

// json is the playback as ARI shows it, encoded now (as a channel's).
func (p *playback) json() playbackJSON {
	return playbackJSON{target: p.target, raw: p.appendJSON(make([]byte, 0, 256))}
}

// appendJSON appends the encoding the object below would have, member by
// member (TestPlaybackJSONAsObject compares them):
//
//	{"id", p.id}, {"media_uri", p.media}, [{"next_media_uri", p.next[0]}],
//	{"target_uri", p.target}, {"language", "en"}, {"state", p.state}
func (p *playback) appendJSON(b []byte) []byte {
	b = append(b, `{"id":`...)
	b = appendPlain(b, p.id)
	b = append(b, `,"media_uri":`...)
	b = appendPlain(b, p.media)
	if len(p.next) > 0 {
		b = append(b, `,"next_media_uri":`...)
		b = appendPlain(b, p.next[0])
	}
	b = append(b, `,"target_uri":`...)
	b = appendPlain(b, p.target)
	b = append(b, `,"language":"en","state":`...)
	b = appendPlain(b, p.state)
	return append(b, '}')
}

// playbackJSON is a playback's encoding, with the target the event trace
// reads (subjectOf).
type playbackJSON struct {
	target string
	raw    []byte
}

func (p *playback) stop() {
	if p.timer != nil {
		p.timer.Stop()
	}
}

type recording struct {
	name, format, target, state string
	terminateOn                 string // DTMF digits that end it (terminateOn)
	app                         string
	started                     time.Time
	beep                        bool
	timer                       Stopper
	bridge                      *bridge
	holds                       bool // it runs on its channel's thread
	// maxSilence is maxSilenceSeconds: silence detection is on, the
	// recording ends after that much silence, and its end reports
	// talking_duration and silence_duration. silentFor is the silence
	// of the runs ended so far; silentFrom the start of the one going on
	// (zero while the far end talks); silenceTimer ends the recording at
	// maxSilence into it.
	maxSilence   time.Duration
	silentFor    time.Duration
	silentFrom   time.Time
	silenceTimer Stopper
}

// recordingEnd is what a recording's end reports (main/app.c
// __ast_play_and_record): duration, the whole seconds of audio written
// less the trailing silence but its first 200 ms; talking, that less
// every silence (ast_play_and_record_full's sound_duration), only with
// silence detection on (talking < 0: not reported).
type recordingEnd struct{ duration, talking int }

func (r *recording) json(withDuration bool, d int) object {
	return r.jsonEnd(withDuration, recordingEnd{duration: d, talking: -1})
}

func (r *recording) jsonEnd(withDuration bool, e recordingEnd) object {
	o := object{{"name", r.name}, {"format", r.format}, {"state", r.state}, {"target_uri", r.target}}
	if withDuration && e.duration >= 0 {
		o = append(o, field{"duration", e.duration})
	}
	if withDuration && e.talking >= 0 {
		// res_stasis_recording.c: silence_duration is total less
		// energy_only, both as reported.
		o = append(o, field{"talking_duration", e.talking}, field{"silence_duration", e.duration - e.talking})
	}
	return o
}

func (r *recording) stop() {
	if r.timer != nil {
		r.timer.Stop()
	}
	if r.silenceTimer != nil {
		r.silenceTimer.Stop()
	}
}

// silenceLocked: the recorded far end goes silent, or talks again, at now.
func (s *Server) silenceLocked(r *recording, silent bool, now time.Time) {
	if r.state != "recording" {
		return
	}
	if now.Before(r.started) {
		now = r.started // the beep is not recorded
	}
	if !silent {
		if !r.silentFrom.IsZero() {
			r.silentFor += now.Sub(r.silentFrom)
			r.silentFrom = time.Time{}
		}
		if r.silenceTimer != nil {
			r.silenceTimer.Stop()
			r.silenceTimer = nil
		}
		return
	}
	if !r.silentFrom.IsZero() {
		return
	}
	r.silentFrom = now
	if r.maxSilence > 0 {
		// "Recording automatically stopped after a silence": once the
		// silence is longer than maxsilence, at the next 20 ms frame.
		r.silenceTimer = s.after(max(now.Sub(s.now()), 0)+r.maxSilence+20*time.Millisecond, func() {
			if s.liveRecs[r.name] == r && !r.silentFrom.IsZero() {
				s.finishRecordingLocked(r, "done")
			}
		})
	}
}

// duringBeep reports whether the recording, begun with a beep, is still
// playing it at now: nothing is recorded yet.
func (r *recording) duringBeep(now time.Time) bool {
	return r.beep && r.state == "recording" && now.Before(r.started)
}

// endLocked is what the recording's end at now reports.
func (r *recording) endLocked(now time.Time) recordingEnd {
	if r.duringBeep(now) {
		// __ast_play_and_record returns before it opens the file: no
		// file, and neither duration nor talking is known.
		return recordingEnd{duration: -1, talking: -1}
	}
	if r.started.IsZero() || !now.After(r.started) {
		e := recordingEnd{talking: -1}
		if r.maxSilence > 0 {
			e.talking = 0
		}
		return e
	}
	total := now.Sub(r.started)
	e := recordingEnd{duration: int(total / time.Second), talking: -1} // whole seconds, after the beep
	var trailing time.Duration
	if !r.silentFrom.IsZero() {
		trailing = now.Sub(r.silentFrom)
	}
	ms := func(d time.Duration) int { return int(d / time.Millisecond) }
	if r.maxSilence > 0 {
		e.talking = e.duration
		if all := ms(r.silentFor + trailing); all > 0 {
			e.talking -= (all - 200) / 1000
		}
		e.talking = max(e.talking, 0)
		if t := ms(trailing); t > 0 {
			e.duration -= (t - 200) / 1000
		}
		e.duration = max(e.duration, 0)
	}
	return e
}

// beepLength is the beep before a recording with "beep": true (09: the
// recording ended 3.99 s after it started for maxDurationSeconds 3), the
// default of Options.BeepLength.
const beepLength = 990 * time.Millisecond

type storedRecording struct{ name, format string }

func (r *storedRecording) json() object { return object{{"name", r.name}, {"format", r.format}} }

// startPlaybackLocked queues media on a channel or bridge: 201 queued,
// then PlaybackStarted once the target's thread is free (after the
// playbacks and recordings before it); PlaybackFinished when the sound
// ends ("done"), at once for an unknown sound ("failed"), never for an
// unknown scheme. A playback stops the channel's music on hold, which
// does not come back by itself (main/file.c ast_openstream_full
// deactivates the channel's generator).
func (s *Server) startPlaybackLocked(id string, media []string, target, appName string) *playback {
	p := &playback{id: id, media: media[0], next: media[1:], target: target, state: "queued", app: appName}
	s.playbacks[id] = p
	s.queueOnThreadLocked(target, threadCmd{run: func() bool {
		if s.playbacks[id] != p {
			return false
		}
		p.holds = true
		p.timer = s.after(0, func() {
			if s.playbacks[id] != p {
				return
			}
			if p.canceled {
				// playback_first_update: a playback stopped while queued
				// is reported finished, never started.
				s.finishPlaybackLocked(p, "done")
				return
			}
			p.state = "playing"
			if c := s.targetChannelLocked(target); c != nil {
				c.moh = ""
			}
			if s.wantsLocked(appName, "PlaybackStarted") {
				s.emitLocked(appName, "PlaybackStarted", nil, object{{"playback", p.json()}})
			}
			s.playItemLocked(p)
		})
		return true
	}, dropped: func() {
		if s.playbacks[id] == p {
			s.cutPlaybackLocked(p)
		}
	}})
	return p
}

// cutPlaybackLocked ends p as its channel's hangup does: the playback
// has its turn (playback_first_update: reported started, or finished
// "done" if it was stopped while queued) and fails at once.
func (s *Server) cutPlaybackLocked(p *playback) {
	if p.canceled {
		s.finishPlaybackLocked(p, "done")
		return
	}
	if p.state == "queued" {
		p.state = "playing"
		if s.wantsLocked(p.app, "PlaybackStarted") {
			s.emitLocked(p.app, "PlaybackStarted", nil, object{{"playback", p.json()}})
		}
	}
	s.finishPlaybackLocked(p, "failed")
}

// targetChannelLocked is the channel of a "channel:<id>" target.
func (s *Server) targetChannelLocked(target string) *channel {
	id, ok := strings.CutPrefix(target, "channel:")
	if !ok {
		return nil
	}
	return s.channels[id]
}

// playItemLocked plays p.media, then the items after it, as
// res_stasis_playback's play_on_channel does for each item in turn:
// PlaybackStarted when it begins (playback_first_update: the first
// item's is raised by the caller), and at its end PlaybackContinuing
// (more to come) or PlaybackFinished (playback_final_update: "done", or
// "failed" when the last item could not be played; an item before the
// last that could not be played continues). An item Asterisk skips after
// its PlaybackStarted (an unknown scheme, a recording not stored) raises
// nothing more; skipped last, the playback never reports its end.
func (s *Server) playItemLocked(p *playback) {
	scheme, name, _ := strings.Cut(p.media, ":")
	var d time.Duration
	switch scheme {
	case "sound":
		p.controllable = true // set before the file is looked for
		var ok bool
		if d, ok = s.sounds[name]; !ok {
			s.endItemLocked(p, "failed")
			return
		}
	case "digits", "number", "characters":
		// Said one character at a time (~0.5 s each in the core sounds).
		d = time.Duration(len([]rune(name))) * 500 * time.Millisecond
	case "recording":
		if _, ok := s.stored[name]; !ok {
			s.skipItemLocked(p)
			return
		}
		p.controllable = true
		d = time.Second
	default:
		if scheme == "tone" {
			p.controllable = true // as play_on_channel sets it (tones are not played here)
		}
		s.skipItemLocked(p)
		return
	}
	p.timer = s.after(d, func() {
		if s.playbacks[p.id] == p {
			s.endItemLocked(p, "done")
		}
	})
}

// endItemLocked ends the item playing (state: how it ended): the next
// item plays, or the playback finishes.
func (s *Server) endItemLocked(p *playback, state string) {
	if len(p.next) == 0 {
		s.finishPlaybackLocked(p, state)
		return
	}
	p.state = "continuing"
	s.emitLocked(p.app, "PlaybackContinuing", nil, object{{"playback", p.json()}})
	s.nextItemLocked(p)
}

// skipItemLocked goes past an item Asterisk skips without an update.
func (s *Server) skipItemLocked(p *playback) {
	if len(p.next) == 0 {
		// Asterisk loses track of the playback: no PlaybackFinished,
		// and it is soon gone (11).
		delete(s.playbacks, p.id)
		s.releaseLocked(p)
		return
	}
	s.nextItemLocked(p)
}

// nextItemLocked starts the next item (playback_first_update).
func (s *Server) nextItemLocked(p *playback) {
	p.media, p.next = p.next[0], p.next[1:]
	p.state = "playing"
	if s.wantsLocked(p.app, "PlaybackStarted") {
		s.emitLocked(p.app, "PlaybackStarted", nil, object{{"playback", p.json()}})
	}
	s.playItemLocked(p)
}

func (s *Server) finishPlaybackLocked(p *playback, state string) {
	p.stop()
	p.state = state
	delete(s.playbacks, p.id)
	s.emitLocked(p.app, "PlaybackFinished", nil, object{{"playback", p.json()}})
	s.releaseLocked(p)
}

// releaseLocked frees the thread playback p held.
func (s *Server) releaseLocked(p *playback) {
	if p.holds {
		p.holds = false
		s.releaseThreadLocked(p.target)
	}
}

// startRecordingLocked starts a live recording; RecordingStarted follows
// the 201.
func (s *Server) startRecordingLocked(r *recording, maxDur time.Duration) {
	s.liveRecs[r.name] = r
	r.state = "queued"
	r.timer = s.after(0, func() {
		if s.liveRecs[r.name] != r {
			return
		}
		if cause := s.failRecordings; cause != "" {
			s.failRecordingLocked(r, cause)
			return
		}
		r.state = "recording"
		r.started = s.now()
		if r.beep {
			r.started = r.started.Add(s.opts.BeepLength)
		}
		if c := s.targetChannelLocked(r.target); c != nil && c.silent {
			s.silenceLocked(r, true, r.started)
		}
		if r.bridge != nil {
			s.recorderJoinLocked(r.bridge)
		}
		s.emitLocked(r.app, "RecordingStarted", nil, object{{"recording", r.json(false, 0)}})
		if maxDur > 0 {
			if r.beep {
				maxDur += s.opts.BeepLength
			}
			r.timer = s.after(maxDur, func() {
				if s.liveRecs[r.name] == r {
					s.finishRecordingLocked(r, "done")
				}
			})
		}
	})
}

// FailRecordings makes every recording started from now on fail with
// cause (RecordingFailed, state "failed", nothing stored), as a full disk
// or an unwritable recordings directory would; "" ends it.
func (s *Server) FailRecordings(cause string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failRecordings = cause
}

// failRecordingLocked ends a live recording that could not be made.
func (s *Server) failRecordingLocked(r *recording, cause string) {
	r.stop()
	delete(s.liveRecs, r.name)
	if b := r.bridge; b != nil {
		b.recorder = ""
		b.rec = nil
		b.retech()
	}
	r.state = "failed"
	s.emitLocked(r.app, "RecordingFailed", nil, object{{"recording", append(r.json(false, 0), field{"cause", cause})}})
	if r.holds {
		r.holds = false
		s.releaseThreadLocked(r.target)
	}
}

// finishRecordingLocked ends a live recording and stores it.
func (s *Server) finishRecordingLocked(r *recording, state string) {
	if s.liveRecs[r.name] != r {
		return
	}
	r.stop()
	delete(s.liveRecs, r.name)
	end := r.endLocked(s.now())
	duringBeep := r.duringBeep(s.now())
	if b := r.bridge; b != nil {
		b.recorder = ""
		b.rec = nil
		b.retech()
	}
	r.state = state
	if state != "canceled" && !duringBeep {
		if _, ok := s.stored[r.name]; !ok {
			s.storedSeq = append(s.storedSeq, r.name)
		}
		s.stored[r.name] = &storedRecording{name: r.name, format: r.format}
	}
	s.emitLocked(r.app, "RecordingFinished", nil, object{{"recording", r.jsonEnd(true, end)}})
	if r.holds {
		r.holds = false
		s.releaseThreadLocked(r.target)
	}
}

// ChannelRecording is the state of the live recording of channel id
// ("queued", "recording"), "" when it has none: a test waits for a
// message to be recording before the caller speaks or hangs up.
func (s *Server) ChannelRecording(channelID string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, r := range s.liveRecs {
		if r.target == "channel:"+channelID {
			if r.state == "recording" && s.now().Before(r.started) {
				return "queued" // the beep still plays
			}
			return r.state
		}
	}
	return ""
}
