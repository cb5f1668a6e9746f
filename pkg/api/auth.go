package api

import (
	"cmp"
	"context"
	"crypto/subtle"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/toritsugi/toritsugi/pkg/phone"
)

// authorized requires a bearer token: the service's (http.api_token),
// which reads every client's data, or, where the route's access allows,
// a client's own (clients[].api_token), whose requests are kept to that
// client's data. With no token configured the data API is off.
func (d Deps) authorized(a access, h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		service := ""
		if d.Token != nil {
			service = d.Token()
		}
		var clients map[string]string
		if d.ClientTokens != nil {
			clients = d.ClientTokens()
		}
		if service == "" && len(clients) == 0 {
			d.Logger.Warn("data API: refused, no http.api_token is set", "method", r.Method, "path", logCut(r.URL.Path), "remote", r.RemoteAddr)
			writeJSON(w, http.StatusForbidden, errorBody{Error: "the data API is off: set http.api_token (or TORITSUGI_HTTP_API_TOKEN)"})
			return
		}
		scheme, got, _ := strings.Cut(r.Header.Get("Authorization"), " ")
		bearer := strings.EqualFold(scheme, "Bearer") && got != ""
		all := bearer && service != "" && subtle.ConstantTimeCompare([]byte(got), []byte(service)) == 1
		client := ""
		if bearer && !all {
			for tok, id := range clients { // every one compared: the time says nothing of which
				if subtle.ConstantTimeCompare([]byte(got), []byte(tok)) == 1 {
					client = id
				}
			}
		}
		if !all && client == "" {
			d.Logger.Warn("data API: refused, no valid token", "method", r.Method, "path", logCut(r.URL.Path), "remote", r.RemoteAddr)
			w.Header().Set("WWW-Authenticate", `Bearer realm="toritsugi"`)
			writeJSON(w, http.StatusUnauthorized, errorBody{Error: "a valid API token is required"})
			return
		}
		if client != "" && !d.keptToClient(w, r, a, client) {
			return
		}
		// Who read callers' data, and how much of it: every request is
		// logged (the query names the client and the period), with the
		// client whose token it was.
		cw := &countingWriter{ResponseWriter: w, status: http.StatusOK}
		r = r.WithContext(context.WithValue(r.Context(), tokenClientKey{}, client))
		defer func() {
			d.Logger.Info("data API", "method", r.Method, "path", logCut(r.URL.Path), "query", logCut(maskedQuery(r.URL.Query())),
				"remote", r.RemoteAddr, "token", cmp.Or(client, "service"), "status", cw.status, "bytes", cw.bytes)
		}()
		h(cw, r)
	}
}

// tokenClientKey is the key, in a request's context, of the client whose
// own token the request came with ("" for the service's token).
type tokenClientKey struct{}

// serviceToken reports whether r came with the service's token (not a
// client's, and through authorized: false otherwise), for what a route
// open to clients' tokens shows the service's alone (the relay's
// unreadable entries, whose client cannot be read).
func serviceToken(r *http.Request) bool {
	c, ok := r.Context().Value(tokenClientKey{}).(string)
	return ok && c == ""
}

// keptToClient keeps a request made with client's own token to that
// client's data, as the route's access says: its `client` parameter set
// to client (another client's refused), its {id} client's; a route of the
// service's only is refused. It writes the refusal itself.
func (d Deps) keptToClient(w http.ResponseWriter, r *http.Request, a access, client string) bool {
	refuse := func(why string) bool {
		d.Logger.Warn("data API: refused, "+why, "method", r.Method, "path", logCut(r.URL.Path), "token", client, "remote", r.RemoteAddr)
		writeJSON(w, http.StatusForbidden, errorBody{Error: why})
		return false
	}
	switch a {
	case byClientParam:
		q := r.URL.Query()
		if asked := q.Get("client"); asked != "" && (asked != client || len(q["client"]) > 1) {
			return refuse("this token reads client " + client + "'s data only")
		}
		q.Set("client", client)
		r.URL.RawQuery = q.Encode()
		return true
	case byClientPath:
		if r.PathValue("id") != client {
			return refuse("this token reads client " + client + "'s data only")
		}
		return true
	}
	return refuse("a client's token cannot do this: it needs http.api_token")
}

// maskedQuery is a request's query for the log, a caller's number in it
// masked (number=*******5678): the log says who asked about whom without
// keeping the number.
func maskedQuery(q url.Values) string {
	if n, ok := q["number"]; ok {
		q, n = maps.Clone(q), slices.Clone(n)
		for i := range n {
			n[i] = phone.Masked(n[i])
		}
		q["number"] = n
	}
	return q.Encode()
}

// countingWriter remembers a response's status and counts its bytes.
type countingWriter struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (c *countingWriter) WriteHeader(code int) {
	c.status = code
	c.ResponseWriter.WriteHeader(code)
}

func (c *countingWriter) Write(b []byte) (int, error) {
	n, err := c.ResponseWriter.Write(b)
	c.bytes += int64(n)
	return n, err
}

// Unwrap lets http.ResponseController reach the connection.
func (c *countingWriter) Unwrap() http.ResponseWriter { return c.ResponseWriter }
