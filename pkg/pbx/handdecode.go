package pbx

import (
	"encoding/json"
	"unicode/utf8"

	"github.com/CyCoreSystems/ari/v6"
)

// handDecode fills a hot event's mirror struct (fastevents.go) without
// encoding/json's reflection, for messages in the shape Asterisk writes:
// members named exactly, strings without escapes, integers without
// fraction or exponent, no nulls where encoding/json would treat them
// specially. It reports false for anything else (nothing is lost: the
// caller then runs json.Unmarshal on the same mirror), so the result is
// always what json.Unmarshal would give. scanEvent has already ruled out
// repeated and non-ASCII keys. m is a pointer to one of the mirror types.
func handDecode(data []byte, m any) bool {
	p := &jsonReader{d: data}
	// Each mirror has the event's members and, but for playbacks, a
	// channel; extra reads the members of its own.
	var (
		event   *eventJSON
		channel *channelJSON
		extra   func(k []byte) (known, ok bool)
	)
	switch m := m.(type) {
	case *channelEventMirror:
		event, channel = &m.eventJSON, &m.Channel
	case *stasisStartMirror:
		event, channel = &m.eventJSON, &m.Channel
		extra = func(k []byte) (bool, bool) {
			switch string(k) {
			case "replace_channel":
				return true, p.channel(&m.ReplaceChannel)
			case "args":
				return true, p.strings(&m.Args)
			}
			return false, true
		}
	case *hangupRequestMirror:
		event, channel = &m.eventJSON, &m.Channel
		extra = func(k []byte) (bool, bool) {
			switch string(k) {
			case "cause":
				return true, p.int(&m.Cause)
			case "soft":
				return true, p.bool(&m.Soft)
			}
			return false, true
		}
	case *destroyedMirror:
		event, channel = &m.eventJSON, &m.Channel
		extra = func(k []byte) (bool, bool) {
			switch string(k) {
			case "cause":
				return true, p.int(&m.Cause)
			case "cause_txt":
				return true, p.str(&m.CauseTxt)
			}
			return false, true
		}
	case *bridgeChannelMirror:
		event, channel = &m.eventJSON, &m.Channel
		extra = func(k []byte) (bool, bool) {
			if string(k) == "bridge" {
				return true, p.bridge(&m.Bridge)
			}
			return false, true
		}
	case *playbackMirror:
		event = &m.eventJSON
		extra = func(k []byte) (bool, bool) {
			if string(k) == "playback" {
				return true, p.playback(&m.Playback)
			}
			return false, true
		}
	default:
		return false
	}
	member := func(k []byte) (bool, bool) {
		if channel != nil && string(k) == "channel" {
			return true, p.channel(channel)
		}
		if extra != nil {
			if known, ok := extra(k); known || !ok {
				return known, ok
			}
		}
		return p.eventMember(k, event)
	}
	if !p.object(member, eventKeys) {
		return false
	}
	p.ws()
	return p.i == len(p.d) // nothing but white space after the object
}

// jsonReader reads the subset of JSON described at handDecode, strictly:
// every method returns false on anything it does not take.
type jsonReader struct {
	d []byte
	i int
}

func (p *jsonReader) ws() { p.i = skipSpace(p.d, p.i) }

// object reads an object, calling member for each key; member reports
// whether it knew the key (and read its value) and whether that went
// well. An unknown key that equals a known one but for case would be
// taken by encoding/json: refused. Other unknown members are skipped.
func (p *jsonReader) object(member func([]byte) (known, ok bool), known []string) bool {
	p.ws()
	if p.i >= len(p.d) || p.d[p.i] != '{' {
		return false
	}
	p.i++
	p.ws()
	if p.i < len(p.d) && p.d[p.i] == '}' {
		p.i++
		return true
	}
	for {
		p.ws()
		key, ok := p.plainBytes()
		if !ok {
			return false
		}
		p.ws()
		if p.i >= len(p.d) || p.d[p.i] != ':' {
			return false
		}
		p.i++
		p.ws()
		isKnown, ok := member(key)
		if !ok {
			return false
		}
		if !isKnown {
			for _, k := range known {
				if foldEqual(k, key) {
					return false
				}
			}
			if !p.skip() {
				return false
			}
		}
		p.ws()
		if p.i >= len(p.d) {
			return false
		}
		switch p.d[p.i] {
		case ',':
			p.i++
		case '}':
			p.i++
			return true
		default:
			return false
		}
	}
}

// eventMember reads the members of ari.EventData's mirror.
func (p *jsonReader) eventMember(k []byte, e *eventJSON) (known, ok bool) {
	switch string(k) {
	case "type":
		return true, p.str(&e.Type)
	case "timestamp":
		return true, p.str(&e.Timestamp)
	case "application":
		return true, p.str(&e.Application)
	case "asterisk_id":
		return true, p.str(&e.Node)
	case "dialog":
		return true, p.str(&e.Dialog)
	}
	return false, true
}

// The members the mirrors read, for the case-folding check in object.
var eventKeys = []string{"type", "timestamp", "application", "asterisk_id", "dialog", "channel", "replace_channel", "args", "cause", "soft", "cause_txt", "playback", "bridge"}

var channelKeys = []string{"key", "id", "name", "state", "accountcode", "caller", "connected", "creationtime", "dialplan", "language", "channelvars", "protocol_id"}

// channel reads a channel (null leaves it as it is, as encoding/json does).
func (p *jsonReader) channel(c *channelJSON) bool {
	if p.null() {
		return true
	}
	return p.object(func(k []byte) (bool, bool) {
		switch string(k) {
		case "id":
			return true, p.str(&c.ID)
		case "name":
			return true, p.str(&c.Name)
		case "state":
			return true, p.str(&c.State)
		case "accountcode":
			return true, p.str(&c.Accountcode)
		case "creationtime":
			return true, p.str(&c.Creationtime)
		case "language":
			return true, p.str(&c.Language)
		case "protocol_id":
			return true, p.str(&c.ProtocolID)
		case "caller":
			return true, p.callerID(&c.Caller)
		case "connected":
			return true, p.callerID(&c.Connected)
		case "dialplan":
			return true, p.dialplan(&c.Dialplan)
		case "channelvars":
			return true, p.stringMap(&c.ChannelVars)
		case "key":
			return true, false // a cluster key: left to encoding/json
		}
		return false, true
	}, channelKeys)
}

func (p *jsonReader) callerID(dst **ari.CallerID) bool {
	if p.null() {
		*dst = nil
		return true
	}
	c := new(ari.CallerID)
	*dst = c
	return p.object(func(k []byte) (bool, bool) {
		switch string(k) {
		case "name":
			return true, p.str(&c.Name)
		case "number":
			return true, p.str(&c.Number)
		}
		return false, true
	}, []string{"name", "number"})
}

func (p *jsonReader) dialplan(dst **ari.DialplanCEP) bool {
	if p.null() {
		*dst = nil
		return true
	}
	d := new(ari.DialplanCEP)
	*dst = d
	return p.object(func(k []byte) (bool, bool) {
		switch string(k) {
		case "context":
			return true, p.str(&d.Context)
		case "exten":
			return true, p.str(&d.Exten)
		case "priority":
			return true, p.int64(&d.Priority)
		case "app_name":
			return true, p.str(&d.AppName)
		case "app_data":
			return true, p.str(&d.AppData)
		}
		return false, true
	}, []string{"context", "exten", "priority", "app_name", "app_data"})
}

func (p *jsonReader) playback(pb *ari.PlaybackData) bool {
	if p.null() {
		return true
	}
	return p.object(func(k []byte) (bool, bool) {
		switch string(k) {
		case "id":
			return true, p.str(&pb.ID)
		case "language":
			return true, p.str(&pb.Language)
		case "media_uri":
			return true, p.str(&pb.MediaURI)
		case "state":
			return true, p.str(&pb.State)
		case "target_uri":
			return true, p.str(&pb.TargetURI)
		case "key":
			return true, false
		}
		return false, true
	}, []string{"key", "id", "language", "media_uri", "state", "target_uri"})
}

// bridge reads a bridge (null leaves it as it is). Members of newer
// Asterisk versions the library has no field for (creationtime,
// video_mode...) are skipped, as encoding/json does.
func (p *jsonReader) bridge(b *ari.BridgeData) bool {
	if p.null() {
		return true
	}
	return p.object(func(k []byte) (bool, bool) {
		switch string(k) {
		case "id":
			return true, p.str(&b.ID)
		case "bridge_class":
			return true, p.str(&b.Class)
		case "bridge_type":
			return true, p.str(&b.Type)
		case "channels":
			return true, p.strings(&b.ChannelIDs)
		case "creator":
			return true, p.str(&b.Creator)
		case "name":
			return true, p.str(&b.Name)
		case "technology":
			return true, p.str(&b.Technology)
		case "key":
			return true, false // a cluster key: left to encoding/json
		}
		return false, true
	}, bridgeKeys)
}

var bridgeKeys = []string{"key", "id", "bridge_class", "bridge_type", "channels", "creator", "name", "technology"}

// stringMap reads an object of strings into a new map (null: nil map).
func (p *jsonReader) stringMap(dst *map[string]string) bool {
	if p.null() {
		*dst = nil
		return true
	}
	m := map[string]string{}
	*dst = m
	return p.object(func(k []byte) (bool, bool) {
		var v string
		if p.peekNull() {
			return true, false // a null value: left to encoding/json
		}
		if !p.str(&v) {
			return true, false
		}
		m[string(k)] = v
		return true, true
	}, nil)
}

// strings reads an array of strings (null: nil slice; [] a non-nil one).
func (p *jsonReader) strings(dst *[]string) bool {
	if p.null() {
		*dst = nil
		return true
	}
	if p.i >= len(p.d) || p.d[p.i] != '[' {
		return false
	}
	p.i++
	out := []string{}
	p.ws()
	if p.i < len(p.d) && p.d[p.i] == ']' {
		p.i++
		*dst = out
		return true
	}
	for {
		p.ws()
		if p.peekNull() {
			return false
		}
		var s string
		if !p.str(&s) {
			return false
		}
		out = append(out, s)
		p.ws()
		if p.i >= len(p.d) {
			return false
		}
		switch p.d[p.i] {
		case ',':
			p.i++
		case ']':
			p.i++
			*dst = out
			return true
		default:
			return false
		}
	}
}

// null consumes a null.
func (p *jsonReader) null() bool {
	if p.peekNull() {
		p.i += 4
		return true
	}
	return false
}

func (p *jsonReader) peekNull() bool {
	return len(p.d)-p.i >= 4 && string(p.d[p.i:p.i+4]) == "null"
}

// str reads a string into dst (null leaves dst as it is).
func (p *jsonReader) str(dst *string) bool {
	if p.null() {
		return true
	}
	s, ok := p.plainString()
	if ok {
		*dst = s
	}
	return ok
}

// plainString reads a string without escapes or control characters whose
// bytes are valid UTF-8 (encoding/json would rewrite anything else).
func (p *jsonReader) plainString() (string, bool) {
	b, ok := p.plainBytes()
	if !ok {
		return "", false
	}
	return string(b), true
}

// plainBytes is plainString without the copy.
func (p *jsonReader) plainBytes() ([]byte, bool) {
	if p.i >= len(p.d) || p.d[p.i] != '"' {
		return nil, false
	}
	start := p.i + 1
	ascii := true
	for j := start; j < len(p.d); j++ {
		switch c := p.d[j]; {
		case c == '"':
			b := p.d[start:j]
			if !ascii && !utf8.Valid(b) {
				return nil, false
			}
			p.i = j + 1
			return b, true
		case c == '\\' || c < 0x20:
			return nil, false
		case c >= 0x80:
			ascii = false
		}
	}
	return nil, false
}

// foldEqual reports whether the ASCII key equals k but for case.
func foldEqual(k string, key []byte) bool {
	if len(k) != len(key) {
		return false
	}
	for i := range len(key) {
		a, b := k[i], key[i]
		if 'A' <= a && a <= 'Z' {
			a += 'a' - 'A'
		}
		if 'A' <= b && b <= 'Z' {
			b += 'a' - 'A'
		}
		if a != b {
			return false
		}
	}
	return true
}

// int reads a JSON integer (no fraction, exponent or leading zero) that
// fits an int; null leaves dst as it is.
func (p *jsonReader) int(dst *int) bool {
	var v int64
	if !p.int64(&v) {
		return false
	}
	*dst = int(v)
	return true
}

func (p *jsonReader) int64(dst *int64) bool {
	if p.null() {
		return true
	}
	j, neg := p.i, false
	if j < len(p.d) && p.d[j] == '-' {
		neg = true
		j++
	}
	start := j
	var v int64
	for j < len(p.d) && p.d[j] >= '0' && p.d[j] <= '9' {
		if j-start >= 18 {
			return false // could overflow: left to encoding/json
		}
		v = v*10 + int64(p.d[j]-'0')
		j++
	}
	switch {
	case j == start, p.d[start] == '0' && j-start > 1:
		return false
	case j < len(p.d) && (p.d[j] == '.' || p.d[j] == 'e' || p.d[j] == 'E'):
		return false
	}
	if neg {
		v = -v
	}
	*dst, p.i = v, j
	return true
}

// bool reads true or false (null leaves dst as it is).
func (p *jsonReader) bool(dst *bool) bool {
	switch {
	case p.null():
		return true
	case len(p.d)-p.i >= 4 && string(p.d[p.i:p.i+4]) == "true":
		*dst, p.i = true, p.i+4
		return true
	case len(p.d)-p.i >= 5 && string(p.d[p.i:p.i+5]) == "false":
		*dst, p.i = false, p.i+5
		return true
	}
	return false
}

// skip passes over a member value the decoder does not read. It must be
// valid JSON, as json.Unmarshal checks the whole message: skipValue finds
// its end, json.Valid checks it.
func (p *jsonReader) skip() bool {
	end := skipValue(p.d, p.i)
	if end < 0 || !json.Valid(p.d[p.i:end]) {
		return false
	}
	p.i = end
	return true
}
