package aritest

import (
	"encoding/binary"
	"net/http"
)

func hPlaybackGet(s *Server, pv map[string]string, _ params) reply {
	p, found := s.playbacks[pv["pid"]]
	if !found {
		return msgErr(http.StatusNotFound, "Playback not found")
	}
	return ok(p.json())
}

func hPlaybackStop(s *Server, pv map[string]string, _ params) reply {
	p, found := s.playbacks[pv["pid"]]
	if !found {
		return msgErr(http.StatusNotFound, "Playback not found")
	}
	if p.canceled {
		return noContent() // res_stasis_playback.c: stopping a canceled playback is a no-op
	}
	if p.state == "queued" {
		// playback_cancel: not started, it will be reported finished
		// ("done", CANCELED's name) when its turn comes
		p.canceled, p.state = true, "done"
		return noContent()
	}
	if !p.controllable {
		// playback_stop refuses a playback no sound: or recording: item
		// of has played (digits: alone), and resource_playbacks.c
		// answers OPER_FAILED so.
		return msgErr(http.StatusInternalServerError, "Could not stop playback")
	}
	s.finishPlaybackLocked(p, "done")
	return noContent()
}

func hStoredList(s *Server, _ map[string]string, _ params) reply {
	out := make([]object, 0, len(s.storedSeq))
	for _, n := range s.storedSeq {
		out = append(out, s.stored[n].json())
	}
	return ok(out)
}

func hStoredGet(s *Server, pv map[string]string, _ params) reply {
	r, found := s.stored[pv["name"]]
	if !found {
		return msgErr(http.StatusNotFound, "Recording not found")
	}
	return ok(r.json())
}

func hStoredDelete(s *Server, pv map[string]string, _ params) reply {
	name := pv["name"]
	if _, found := s.stored[name]; !found {
		return msgErr(http.StatusNotFound, "Recording not found")
	}
	delete(s.stored, name)
	for i, n := range s.storedSeq {
		if n == name {
			s.storedSeq = append(s.storedSeq[:i:i], s.storedSeq[i+1:]...)
			break
		}
	}
	return noContent()
}

// hStoredFile serves a stored recording's file: Asterisk
// (resource_recordings.c, ast_ari_recordings_get_stored_file) names its
// Content-Type from the file's extension, audio/<format> (audio/wav,
// audio/wav16, audio/gsm), with its length. The fake's file is a second of
// 8 kHz silence, whatever was recorded.
func hStoredFile(s *Server, pv map[string]string, _ params) reply {
	r, found := s.stored[pv["name"]]
	if !found {
		return msgErr(http.StatusNotFound, "Recording not found")
	}
	return reply{status: http.StatusOK, raw: silentWAV(8000), ctype: "audio/" + r.format}
}

// silentWAV is a valid 8 kHz mono 16-bit WAV of the given number of samples.
func silentWAV(samples int) []byte {
	data := samples * 2
	b := make([]byte, 44+data)
	copy(b[0:], "RIFF")
	binary.LittleEndian.PutUint32(b[4:], uint32(36+data))
	copy(b[8:], "WAVEfmt ")
	binary.LittleEndian.PutUint32(b[16:], 16)
	binary.LittleEndian.PutUint16(b[20:], 1)
	binary.LittleEndian.PutUint16(b[22:], 1)
	binary.LittleEndian.PutUint32(b[24:], 8000)
	binary.LittleEndian.PutUint32(b[28:], 16000)
	binary.LittleEndian.PutUint16(b[32:], 2)
	binary.LittleEndian.PutUint16(b[34:], 16)
	copy(b[36:], "data")
	binary.LittleEndian.PutUint32(b[40:], uint32(data))
	return b
}

func hLiveGet(s *Server, pv map[string]string, _ params) reply {
	r, found := s.liveRecs[pv["name"]]
	if !found {
		return msgErr(http.StatusNotFound, "Recording not found")
	}
	return ok(r.json(false, 0))
}

func hLiveStop(s *Server, pv map[string]string, _ params) reply {
	r, found := s.liveRecs[pv["name"]]
	if !found {
		return msgErr(http.StatusNotFound, "Recording not found")
	}
	if !waitingOnThread(r) {
		s.finishRecordingLocked(r, "done")
	}
	return noContent()
}

func hLiveCancel(s *Server, pv map[string]string, _ params) reply {
	r, found := s.liveRecs[pv["name"]]
	if !found {
		return msgErr(http.StatusNotFound, "Recording not found")
	}
	if !waitingOnThread(r) {
		s.finishRecordingLocked(r, "canceled")
	}
	return noContent()
}

// waitingOnThread: r is a channel recording still queued behind the
// channel's media. Stopping or canceling it then only marks it
// (res_stasis_recording.c recording_disregard): no event, no file, and
// record_file, which does not look at that mark, still records it in its
// turn (from the source, not verified).
func waitingOnThread(r *recording) bool {
	return r.bridge == nil && !r.holds
}
