package aritest

import (
	"net/http"
	"slices"
	"strings"
)

func hAsteriskInfo(s *Server, _ map[string]string, _ params) reply {
	start := astTime(s.started)
	return ok(object{
		{"build", object{{"os", "Linux"}, {"kernel", "6.18.44-fc-v657"}, {"machine", "x86_64"}, {"options", "OPTIONAL_API"}, {"date", "2026-11-28 20:11:58 UTC"}, {"user", "root"}}},
		{"system", object{{"version", asteriskVersion}, {"entity_id", asteriskID}}},
		{"config", object{{"name", ""}, {"default_language", "en"}, {"setid", object{{"user", ""}, {"group", ""}}}}},
		{"status", object{{"startup_time", start}, {"last_reload_time", start}}},
	})
}

func hAsteriskPing(s *Server, _ map[string]string, _ params) reply {
	return ok(object{{"ping", "pong"}, {"timestamp", astTime(s.now())}, {"asterisk_id", asteriskID}})
}

func hAppList(s *Server, _ map[string]string, _ params) reply {
	out := make([]object, 0, len(s.appOrder))
	for _, n := range s.appOrder {
		out = append(out, s.apps[n].json(s))
	}
	return ok(out)
}

func hAppGet(s *Server, pv map[string]string, _ params) reply {
	a, found := s.apps[pv["app"]]
	if !found {
		return msgErr(http.StatusNotFound, "Application not found")
	}
	return ok(a.json(s))
}

// eventSource validates "endpoint:PJSIP" / "endpoint:PJSIP/op1001".
func (s *Server) eventSourceLocked(p params) (string, *reply) {
	src := p.str("eventSource")
	if src == "" {
		r := msgErr(http.StatusBadRequest, "Missing parameter eventSource")
		return "", &r
	}
	scheme, rest, _ := strings.Cut(src, ":")
	switch scheme {
	case "endpoint":
		if _, found := s.endpoints[rest]; found {
			return rest, nil
		}
		if !strings.Contains(rest, "/") {
			for _, e := range s.endpoints {
				if e.tech == rest {
					return rest, nil
				}
			}
		}
	case "channel", "bridge", "deviceState":
	default:
		r := msgErr(http.StatusBadRequest, "Invalid event source URI scheme")
		return "", &r
	}
	r := msgErr(http.StatusUnprocessableEntity, "Event source does not exist")
	return "", &r
}

func hAppSubscribe(s *Server, pv map[string]string, p params) reply {
	a, found := s.apps[pv["app"]]
	if !found {
		return msgErr(http.StatusNotFound, "Application not found")
	}
	src, bad := s.eventSourceLocked(p)
	if bad != nil {
		return *bad
	}
	if a.interested == nil {
		a.interested = map[string]int{}
	}
	if a.interested[src]++; a.interested[src] == 1 {
		a.endpoints = append(a.endpoints, src)
	}
	return ok(a.json(s))
}

func hAppUnsubscribe(s *Server, pv map[string]string, p params) reply {
	a, found := s.apps[pv["app"]]
	if !found {
		return msgErr(http.StatusNotFound, "Application not found")
	}
	src, bad := s.eventSourceLocked(p)
	if bad != nil {
		return *bad
	}
	if a.interested[src] > 0 {
		// Given up when the last of its subscriptions is.
		if a.interested[src]--; a.interested[src] == 0 {
			delete(a.interested, src)
			a.endpoints = slices.DeleteFunc(a.endpoints, func(have string) bool { return have == src })
			defer s.maybeDestroyAppLocked(a)
		}
		return ok(a.json(s))
	}
	// resource_applications.c: STASIS_ASR_EVENT_SOURCE_NOT_FOUND (the
	// spec says 409; the source answers 422).
	return msgErr(http.StatusUnprocessableEntity, "Event source was not subscribed to")
}

func hEndpointList(s *Server, _ map[string]string, _ params) reply {
	out := make([]object, 0, len(s.epOrder))
	for _, k := range s.epOrder {
		out = append(out, s.endpoints[k].json(s))
	}
	return ok(out)
}

func hEndpointTech(s *Server, pv map[string]string, _ params) reply {
	var out []object
	for _, k := range s.epOrder {
		if e := s.endpoints[k]; e.tech == pv["tech"] {
			out = append(out, e.json(s))
		}
	}
	if out == nil {
		return msgErr(http.StatusNotFound, "No Endpoints found - invalid tech "+pv["tech"])
	}
	return ok(out)
}

func hEndpointGet(s *Server, pv map[string]string, _ params) reply {
	e, found := s.endpoints[pv["tech"]+"/"+pv["resource"]]
	if !found {
		return msgErr(http.StatusNotFound, "Endpoint not found")
	}
	return ok(e.json(s))
}

func soundJSON(id string) object {
	formats := []object{}
	langs := []string{"en"}
	if id == "hello-world" {
		langs = []string{"en_US_f_Allison", "en_US", "en"}
	}
	for _, l := range langs {
		for _, f := range []string{"gsm", "slin"} {
			formats = append(formats, object{{"language", l}, {"format", f}})
		}
	}
	return object{{"id", id}, {"formats", formats}}
}

func hSoundList(s *Server, _ map[string]string, _ params) reply {
	out := []object{}
	for _, n := range sortedKeys(durKeys(s)) {
		out = append(out, soundJSON(n))
	}
	return ok(out)
}

func durKeys(s *Server) map[string]string {
	m := map[string]string{}
	for k := range s.sounds {
		m[k] = k
	}
	return m
}

func hSoundGet(s *Server, pv map[string]string, _ params) reply {
	if _, found := s.sounds[pv["sound"]]; !found {
		return msgErr(http.StatusNotFound, "Sound not found")
	}
	return ok(soundJSON(pv["sound"]))
}
