package aritest

import (
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// reply is what a REST handler answers; it is written after the state lock
// is released.
type reply struct {
	status  int
	body    any // nil: no body
	headers map[string]string
	raw     []byte // non-JSON body (recording file)
	ctype   string
	later   chan settled // the reply, once the command ran on its channel's thread
}

func noContent() reply { return reply{status: http.StatusNoContent} }

func ok(body any) reply { return reply{status: http.StatusOK, body: body} }

func msgErr(status int, msg string) reply {
	return reply{status: status, body: object{{"message", msg}}}
}

func allocFailed() reply {
	return reply{status: http.StatusInternalServerError, body: object{{"error", "Allocation failed"}}}
}

// params are a request's parameters: the query string merged with the
// fields of a JSON object body (the body wins, as in Asterisk).
type params struct {
	query map[string]string
	body  map[string]any
	raw   []byte // the body as sent
}

func (p params) has(name string) bool {
	if _, ok := p.body[name]; ok {
		return true
	}
	_, ok := p.query[name]
	return ok
}

func (p params) str(name string) string {
	if v, ok := p.body[name]; ok {
		switch t := v.(type) {
		case string:
			return t
		case float64:
			return strconv.FormatFloat(t, 'f', -1, 64)
		case bool:
			return strconv.FormatBool(t)
		case nil:
			return ""
		default:
			b, _ := json.Marshal(t)
			return string(b)
		}
	}
	return p.query[name]
}

func (p params) integer(name string, def int) int {
	if !p.has(name) {
		return def
	}
	n, err := strconv.Atoi(p.str(name))
	if err != nil {
		return def
	}
	return n
}

func (p params) boolean(name string) bool {
	v := p.str(name)
	return v == "true" || v == "yes" || v == "1"
}

// list reads an allowMultiple parameter as Asterisk's generated parsers
// do: in the body, a JSON array is the values and any other value is one
// value (a string is not split on commas); in the query string, a
// comma-separated list.
func (p params) list(name string) []string {
	if v, inBody := p.body[name]; inBody {
		arr, ok := v.([]any)
		if !ok {
			arr = []any{v}
		}
		var out []string
		for _, x := range arr {
			if v := (params{body: map[string]any{"x": x}}).str("x"); v != "" {
				out = append(out, v)
			}
		}
		return out
	}
	var out []string
	for _, v := range strings.Split(p.query[name], ",") {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}

// strMap reads an object parameter such as originate's "variables".
func (p params) strMap(name string) map[string]string {
	out := map[string]string{}
	v, ok := p.body[name].(map[string]any)
	if !ok {
		return out
	}
	if inner, ok := v["variables"].(map[string]any); ok {
		v = inner
	}
	for k, x := range v {
		out[k] = params{body: map[string]any{"x": x}}.str("x")
	}
	return out
}

// parseParams reads the query and the body (already read by serveHTTP);
// ok is false for a body that is not JSON ("Error parsing request body").
func parseParams(r *http.Request, body []byte) (params, bool) {
	// Maps made only when there is something to put in them: a nil map
	// reads as empty.
	var p params
	if r.URL.RawQuery != "" {
		p.query = map[string]string{}
		for k, v := range r.URL.Query() {
			if len(v) > 0 {
				p.query[k] = v[0]
			}
		}
	}
	if len(body) == 0 {
		return p, true
	}
	p.raw = body
	if m, ok := parseFlatBody(body); ok {
		p.body = m
		return p, true
	}
	// One JSON value, surrounding white space allowed (json.Unmarshal
	// refuses anything after the value).
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		return p, false
	}
	if m, ok := v.(map[string]any); ok {
		p.body = m
	}
	return p, true
}

// serveHTTP authenticates, routes and logs every request.
func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	path := strings.TrimPrefix(r.URL.Path, "/ari")
	if !strings.HasPrefix(r.URL.Path, "/ari/") {
		path = r.URL.Path
	}
	body := readBody(r)
	text := string(body) // for the log and the hook: one copy
	if s.opts.OnRequest != nil {
		s.opts.OnRequest(ReceivedRequest{Method: r.Method, Path: path, Query: r.URL.RawQuery, Body: text, At: time.Now()})
	}
	var rep reply
	switch {
	case !s.authorized(r):
		rep = msgErr(http.StatusUnauthorized, "Authentication required")
		rep.headers = map[string]string{"WWW-Authenticate": `Basic realm="Asterisk REST Interface"`}
	case path == "/events" && r.Method == http.MethodGet:
		if r.URL.Query().Get("app") == "" {
			rep = reply{status: http.StatusBadRequest, raw: []byte(missingAppPage), ctype: "text/html"}
			break
		}
		s.logRequest(r, path, text, http.StatusSwitchingProtocols)
		s.serveWebsocket(w, r)
		return
	default:
		rep = s.route(r, path, body)
	}
	s.logRequest(r, path, text, rep.status)
	writeReply(w, rep)
}

// authorized reports whether r's basic authentication carries the user
// and password. The header last found good is compared as it is, not
// decoded again.
func (s *Server) authorized(r *http.Request) bool {
	h := r.Header.Get("Authorization")
	if good := s.goodAuth.Load(); good != nil && *good == h {
		return true
	}
	user, pass, ok := r.BasicAuth()
	if !ok || user != s.opts.User || pass != s.opts.Password {
		return false
	}
	s.goodAuth.Store(&h)
	return true
}

// readBody reads a request's body, at most 1 MiB, into a buffer of the
// announced length when there is one.
func readBody(r *http.Request) []byte {
	if r.Body == nil || r.ContentLength == 0 {
		return nil
	}
	if r.ContentLength > 0 && r.ContentLength <= 1<<20 {
		b := make([]byte, r.ContentLength)
		n, _ := io.ReadFull(r.Body, b)
		return b[:n]
	}
	b, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	return b
}

func (s *Server) logRequest(r *http.Request, path, body string, status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if limit := s.opts.RequestLogLimit; limit > 0 && len(s.requests) >= limit {
		// Drop the older half at once: amortised O(1) per request.
		s.requests = append(s.requests[:0], s.requests[len(s.requests)-limit/2:]...)
	}
	s.requests = append(s.requests, RequestLog{Method: r.Method, Path: path, Query: r.URL.RawQuery, Body: body, Status: status, Time: s.now()})
	s.bumpLocked()
}

func writeReply(w http.ResponseWriter, rep reply) {
	h := w.Header()
	// Shared, never modified value slices: a Set per header would
	// allocate one per response.
	h["Server"] = serverHeaderValue
	h["Cache-Control"] = noCacheValue
	for k, v := range rep.headers {
		h.Set(k, v)
	}
	var body []byte
	switch {
	case rep.raw != nil:
		body = rep.raw
		h.Set("Content-Type", rep.ctype)
	case rep.body != nil:
		b, err := marshal(rep.body)
		if err != nil {
			b = []byte(`{"message":"Internal Server Error"}`)
		}
		body = b
		h["Content-Type"] = jsonTypeValue
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(rep.status)
	if len(body) > 0 {
		_, _ = w.Write(body)
	}
}

var (
	serverHeaderValue = []string{serverHeader}
	noCacheValue      = []string{"no-cache, no-store"}
	jsonTypeValue     = []string{"application/json"}
)

const missingAppPage = "<!DOCTYPE HTML PUBLIC \"-//IETF//DTD HTML 2.0//EN\">\r\n<html><head>\r\n<title>400 Bad Request</title>\r\n</head><body>\r\n<h1>Bad Request</h1>\r\n<p>HTTP request is missing param: [app]</p>\r\n<hr />\r\n<address>Asterisk/22.10.1</address>\r\n</body></html>\r\n"
