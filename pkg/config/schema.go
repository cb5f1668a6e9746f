package config

import (
	"slices"
	"strings"
)

// kind is what a YAML value must be.
type kind uint8

const (
	kindScalar kind = iota
	kindMap
	kindList
)

// shape describes the allowed keys and value kinds, so that unknown keys and
// misplaced values are reported with their position before decoding.
type shape struct {
	kind   kind
	fields map[string]*shape // kindMap
	elem   *shape            // kindList
}

var scalar = &shape{kind: kindScalar}

func mapOf(fields map[string]*shape) *shape { return &shape{kind: kindMap, fields: fields} }
func listOf(elem *shape) *shape             { return &shape{kind: kindList, elem: elem} }

var queueShape = mapOf(map[string]*shape{
	"strategy":         scalar,
	"ring_timeout":     scalar,
	"max_wait":         scalar,
	"max_callers":      scalar,
	"wrapup":           scalar,
	"wrapup_hold":      scalar,
	"moh_class":        scalar,
	"auto_pause_after": scalar,
	"escalate_after":   scalar,
	"announce_period":  scalar,
})

var weeklyShape = func() *shape {
	f := make(map[string]*shape, len(weekdayKeys))
	for _, w := range weekdayKeys {
		f[w.key] = listOf(scalar)
	}
	return mapOf(f)
}()

var rootShape = mapOf(map[string]*shape{
	"ari": mapOf(map[string]*shape{
		"url":             scalar,
		"user":            scalar,
		"password":        scalar,
		"app":             scalar,
		"request_timeout": scalar,
		"ping_interval":   scalar,
	}),
	"http":                       mapOf(map[string]*shape{"listen": scalar, "api_listen": scalar, "secure_cookies": scalar, "api_token": scalar}),
	"data_dir":                   scalar,
	"log_level":                  scalar,
	"unknown_did_sound":          scalar,
	"answer_silence":             scalar,
	"trunk":                      scalar,
	"sounds_dir":                 scalar,
	"fallback_log":               scalar,
	"intake_retention_days":      scalar,
	"call_record_retention_days": scalar,
	"queue":                      queueShape,
	"clients": listOf(mapOf(map[string]*shape{
		"id":                scalar,
		"name":              scalar,
		"short_name":        scalar,
		"dids":              listOf(scalar),
		"greeting":          scalar,
		"greeting_text":     scalar,
		"after_hours_sound": scalar,
		"hours": mapOf(map[string]*shape{
			"timezone":        scalar,
			"weekly":          weeklyShape,
			"public_holidays": scalar,
			"closures": listOf(mapOf(map[string]*shape{
				"from":   scalar,
				"to":     scalar,
				"reason": scalar,
			})),
		}),
		"queue":                    queueShape,
		"answer_mode":              scalar,
		"ringback_max":             scalar,
		"transfer_to":              scalar,
		"overflow":                 scalar,
		"callback_prompt":          scalar,
		"callback_thanks":          scalar,
		"callback_enter_prompt":    scalar,
		"callback_after_number":    scalar,
		"callback_goodbye":         scalar,
		"voicemail_prompt":         scalar,
		"voicemail_max":            scalar,
		"voicemail_max_silence":    scalar,
		"after_hours_voicemail":    scalar,
		"transfer_timeout":         scalar,
		"transfer_caller_id":       scalar,
		"transfer_confirm":         scalar,
		"transfer_whisper":         scalar,
		"whisper_sound":            scalar,
		"record":                   scalar,
		"record_announcement":      scalar,
		"recording_retention_days": scalar,
		"intake_retention_days":    scalar,
		"overflow_sound":           scalar,
		"blocked_sound":            scalar,
		"withheld_sound":           scalar,
		"block_withheld":           scalar,
		"bill_after_hours":         scalar,
		"api_token":                scalar,
		"callers": listOf(mapOf(map[string]*shape{
			"match":      scalar,
			"action":     scalar,
			"name":       scalar,
			"block_mode": scalar,
			"whisper":    scalar,
		})),
		"script": scalar,
		"manual": scalar,
		"relay": mapOf(map[string]*shape{
			"to": listOf(scalar),
			"rules": listOf(mapOf(map[string]*shape{
				"field":  scalar,
				"equals": scalar,
				"to":     listOf(scalar),
				"urgent": scalar,
			})),
			"urgent":       listOf(scalar),
			"template":     scalar,
			"missed_calls": scalar,
			"voicemails":   scalar,
		}),
	})),
	"relay": mapOf(map[string]*shape{
		"destinations": listOf(mapOf(map[string]*shape{
			"name":             scalar,
			"type":             scalar,
			"url":              scalar,
			"to":               scalar,
			"token":            scalar,
			"secret":           scalar,
			"room_id":          scalar,
			"bot_id":           scalar,
			"client_id":        scalar,
			"client_secret":    scalar,
			"service_account":  scalar,
			"private_key_file": scalar,
			"scope":            scalar,
			"addr":             scalar,
			"from":             scalar,
			"username":         scalar,
			"password":         scalar,
			"insecure":         scalar,
			"timeout":          scalar,
		})),
	}),
	"operators": listOf(mapOf(map[string]*shape{
		"id":            scalar,
		"name":          scalar,
		"endpoint":      scalar,
		"clients":       listOf(scalar),
		"password_hash": scalar,
		"supervisor":    scalar,
	})),
})

// placesBelow lists where key is a known key one section below the
// mapping at path (list indexes written []): a key written without its
// section (max_wait under a client, for its queue.max_wait) is told where
// it goes. Places elsewhere (a destination's timeout for ari.timeout) are
// not offered: another section's key of that name means something else.
func placesBelow(path, key string) []string {
	var out []string
	for _, p := range placesOf(key) {
		parent, _ := strings.CutSuffix(p, "."+key)
		i := strings.LastIndexByte(parent, '.')
		if (path == "" && i < 0 && !strings.Contains(parent, "[")) || (path != "" && i >= 0 && parent[:i] == path && !strings.Contains(parent[i:], "[")) {
			out = append(out, p)
		}
	}
	return out
}

// sectionsNamed lists where key is a known section (a mapping or a list)
// in the whole configuration: a section written in the wrong place (the
// destinations under a client's relay, for the top level's
// relay.destinations) is told where one of that name is. A section's
// name, unlike a single value's, says what it holds wherever it is.
func sectionsNamed(key string) []string {
	return placesWhere(key, func(sh *shape) bool { return sh.kind != kindScalar })
}

// placesOf lists where key is a known key in the whole configuration
// (queue.max_wait, clients[].queue.max_wait), sorted.
func placesOf(key string) []string {
	return placesWhere(key, func(*shape) bool { return true })
}

// placesWhere lists where key is a known key whose shape is ok, sorted.
func placesWhere(key string, ok func(*shape) bool) []string {
	var out []string
	var walk func(sh *shape, path string)
	walk = func(sh *shape, path string) {
		switch sh.kind {
		case kindList:
			walk(sh.elem, path+"[]")
		case kindMap:
			for k, sub := range sh.fields {
				p := k
				if path != "" {
					p = path + "." + k
				}
				if k == key && ok(sub) {
					out = append(out, p)
				}
				walk(sub, p)
			}
		}
	}
	walk(rootShape, "")
	slices.Sort(out)
	return out
}

// suggest returns the known key closest to a mistyped one, or "".
func suggest(key string, fields map[string]*shape) string {
	if a, ok := weekdayNames[strings.ToLower(key)]; ok {
		if _, known := fields[a]; known {
			return a // 月 or Monday in hours.weekly: mon
		}
	}
	best, bestDist := "", 3
	for k := range fields {
		if d := editDistance(key, k); d < bestDist || (d == bestDist && best != "" && k < best) {
			best, bestDist = k, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance, bounded to short keys.
func editDistance(a, b string) int {
	if len(a) > 64 || len(b) > 64 {
		return 64
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// weekdayNames are the ways admins write a weekday, in Japanese and in
// English, for the key the configuration takes (hours.weekly: mon … sun).
var weekdayNames = func() map[string]string {
	m := map[string]string{}
	for i, k := range []string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"} {
		ja := []string{"日", "月", "火", "水", "木", "金", "土"}[i]
		en := []string{"sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"}[i]
		for _, n := range []string{ja, ja + "曜", ja + "曜日", en} {
			m[n] = k
		}
	}
	return m
}()
