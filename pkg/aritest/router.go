package aritest

import (
	"net/http"
	"strings"
)

// handler serves one REST operation with the state lock held.
type handler func(s *Server, pv map[string]string, p params) reply

// route is one ARI path with its operations, in the order Asterisk lists
// them in the Allow header.
type route struct {
	segs    []string
	methods []string
	fns     map[string]handler
}

type routeSpec struct {
	path string
	ops  []op
}

type op struct {
	method string
	fn     handler
}

var routes = buildRoutes([]routeSpec{
	{"/asterisk/info", []op{{"GET", hAsteriskInfo}}},
	{"/asterisk/ping", []op{{"GET", hAsteriskPing}}},
	{"/applications", []op{{"GET", hAppList}}},
	{"/applications/{app}", []op{{"GET", hAppGet}}},
	{"/applications/{app}/subscription", []op{{"POST", hAppSubscribe}, {"DELETE", hAppUnsubscribe}}},
	{"/applications/{app}/eventFilter", []op{{"PUT", hAppFilter}}},
	{"/endpoints", []op{{"GET", hEndpointList}}},
	{"/endpoints/{tech}", []op{{"GET", hEndpointTech}}},
	{"/endpoints/{tech}/{resource}", []op{{"GET", hEndpointGet}}},
	{"/sounds", []op{{"GET", hSoundList}}},
	{"/sounds/{sound}", []op{{"GET", hSoundGet}}},
	{"/channels", []op{{"GET", hChannelList}, {"POST", hOriginate}}},
	{"/channels/create", []op{{"POST", hCreate}}},
	{"/channels/{id}", []op{{"GET", hChannelGet}, {"POST", hOriginateWithID}, {"DELETE", hHangup}}},
	{"/channels/{id}/answer", []op{{"POST", hAnswer}}},
	{"/channels/{id}/ring", []op{{"POST", hRing}, {"DELETE", hRingStop}}},
	{"/channels/{id}/dial", []op{{"POST", hDial}}},
	{"/channels/{id}/moh", []op{{"POST", hMOHStart}, {"DELETE", hMOHStop}}},
	{"/channels/{id}/play", []op{{"POST", hChannelPlay}}},
	{"/channels/{id}/play/{playbackId}", []op{{"POST", hChannelPlay}}},
	{"/channels/{id}/record", []op{{"POST", hChannelRecord}}},
	{"/channels/{id}/variable", []op{{"GET", hVarGet}, {"POST", hVarSet}}},
	{"/bridges", []op{{"GET", hBridgeList}, {"POST", hBridgeCreate}}},
	{"/bridges/{bid}", []op{{"POST", hBridgeCreate}, {"GET", hBridgeGet}, {"DELETE", hBridgeDestroy}}},
	{"/bridges/{bid}/addChannel", []op{{"POST", hBridgeAdd}}},
	{"/bridges/{bid}/removeChannel", []op{{"POST", hBridgeRemove}}},
	{"/bridges/{bid}/play", []op{{"POST", hBridgePlay}}},
	{"/bridges/{bid}/play/{playbackId}", []op{{"POST", hBridgePlay}}},
	{"/bridges/{bid}/record", []op{{"POST", hBridgeRecord}}},
	{"/bridges/{bid}/moh", []op{{"POST", hBridgeMOHStart}, {"DELETE", hBridgeMOHStop}}},
	{"/playbacks/{pid}", []op{{"GET", hPlaybackGet}, {"DELETE", hPlaybackStop}}},
	{"/recordings/stored", []op{{"GET", hStoredList}}},
	{"/recordings/stored/{name}", []op{{"GET", hStoredGet}, {"DELETE", hStoredDelete}}},
	{"/recordings/stored/{name}/file", []op{{"GET", hStoredFile}}},
	{"/recordings/live/{name}", []op{{"GET", hLiveGet}, {"DELETE", hLiveCancel}}},
	{"/recordings/live/{name}/stop", []op{{"POST", hLiveStop}}},
})

func buildRoutes(specs []routeSpec) []route {
	out := make([]route, 0, len(specs))
	for _, sp := range specs {
		rt := route{segs: strings.Split(strings.Trim(sp.path, "/"), "/"), fns: map[string]handler{}}
		for _, o := range sp.ops {
			rt.methods = append(rt.methods, o.method)
			rt.fns[o.method] = o.fn
		}
		out = append(out, rt)
	}
	return out
}

func (rt route) match(segs []string) (map[string]string, bool) {
	if len(segs) != len(rt.segs) {
		return nil, false
	}
	// Check the literal segments first, so that only the matching route
	// allocates its path values.
	for i, want := range rt.segs {
		if strings.HasPrefix(want, "{") {
			if segs[i] == "" {
				return nil, false
			}
		} else if want != segs[i] {
			return nil, false
		}
	}
	pv := map[string]string{}
	for i, want := range rt.segs {
		if strings.HasPrefix(want, "{") {
			pv[want[1:len(want)-1]] = segs[i]
		}
	}
	return pv, true
}

// route finds the operation, parses the parameters and runs the handler.
func (s *Server) route(r *http.Request, path string, body []byte) reply {
	segs := strings.Split(strings.Trim(path, "/"), "/")
	var allowed *route
	for i := range routes {
		rt := &routes[i]
		pv, ok := rt.match(segs)
		if !ok {
			continue
		}
		fn, ok := rt.fns[r.Method]
		if !ok {
			if allowed == nil {
				allowed = rt
			}
			continue
		}
		p, good := parseParams(r, body)
		if !good {
			return msgErr(http.StatusBadRequest, "Error parsing request body")
		}
		s.mu.Lock()
		rep := fn(s, pv, p)
		flush := s.flushTargetLocked()
		s.bumpLocked()
		s.mu.Unlock()
		if rep.later != nil {
			select {
			case st := <-rep.later:
				rep, flush = st.rep, st.flush
			case <-r.Context().Done():
				return msgErr(http.StatusServiceUnavailable, "Request abandoned")
			case <-s.closing:
				return msgErr(http.StatusServiceUnavailable, "Asterisk is shutting down")
			}
		}
		if rep.status == http.StatusNoContent && flush != nil {
			flush.waitWritten()
		}
		return rep
	}
	if allowed != nil {
		rep := msgErr(http.StatusMethodNotAllowed, "Invalid method")
		rep.headers = map[string]string{"Allow": "OPTIONS," + strings.Join(allowed.methods, ",")}
		return rep
	}
	return msgErr(http.StatusNotFound, "Resource not found")
}
