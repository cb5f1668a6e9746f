package pbx

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/valyala/fasthttp"
)

// restConns bounds the REST connections to Asterisk. Asterisk serves each
// HTTP connection on its own thread and refuses connections beyond
// http.conf's sessionlimit (100 by default, the events websocket
// included), so an unbounded pool would, under load, see connections
// refused; with a bound, requests beyond it wait for a free connection.
const restConns = 64

// restIdleTimeout closes idle REST connections before Asterisk does
// (http.conf session_keep_alive, 15 s by default): a request written on a
// connection Asterisk is closing at that moment fails, and only
// idempotent requests are retried.
const restIdleTimeout = 10 * time.Second

// restTransport sends the link's REST requests, the ari library's (which
// takes an *http.Client) and the link's own, with fasthttp's client behind
// net/http's RoundTripper interface. Every call costs about a dozen
// requests: in the call-flow benchmark net/http's client (a goroutine
// each to write and to read every connection, a context and header copies
// per request) took about 30 % of the process's CPU, and this transport
// needs 10-16 % less CPU per flow in all.
//
// Each request is bounded by the timeout (or its context's earlier
// deadline). A request that failed before it was written, waiting for one
// of the restConns connections or dialling, is marked ErrNotSent. The
// response carries its status, Content-Type and body (read whole, so a
// connection is reused whether or not the caller reads an error's body).
// Proxy settings from the environment are not used: Asterisk's ARI is
// reached directly.
type restTransport struct {
	client   *fasthttp.Client
	timeout  time.Duration
	observer Observer // nil: none
}

func newRESTTransport(timeout time.Duration) *restTransport {
	return &restTransport{timeout: timeout, client: &fasthttp.Client{
		Name:                "toritsugi",
		MaxConnsPerHost:     restConns,
		MaxIdleConnDuration: restIdleTimeout,
		// A request waiting for a connection gives up a little before
		// its deadline: at the deadline fasthttp answers ErrTimeout, as
		// for a request written and not answered, and a waiting request
		// must be told apart (ErrNoFreeConns: not sent).
		MaxConnWaitTimeout: timeout * 9 / 10,
		// Paths go as the ari library escaped them.
		DisablePathNormalizing: true,
		// net's dialer: names resolve to IPv6 and IPv4 alike (fasthttp's
		// own dials IPv4 only), and every failure is marked as a dial's.
		DialTimeout: dial,
	}}
}

// dialError is a failure to connect: the request was not written.
type dialError struct{ err error }

func (e *dialError) Error() string { return e.err.Error() }
func (e *dialError) Unwrap() error { return e.err }

// dial connects to addr (host:port, fasthttp adds a missing port).
func dial(addr string, timeout time.Duration) (net.Conn, error) {
	c, err := (&net.Dialer{Timeout: timeout}).Dial("tcp", addr)
	if err != nil {
		return nil, &dialError{err}
	}
	return c, nil
}

func (t *restTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	req := fasthttp.AcquireRequest()
	defer fasthttp.ReleaseRequest(req)
	req.Header.SetMethod(r.Method)
	req.SetRequestURI(r.URL.String())
	for k, vs := range r.Header {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	if r.Body != nil {
		err := copyBody(req, r)
		_ = r.Body.Close()
		if err != nil {
			return nil, fmt.Errorf("%w: reading the request body: %w", ErrNotSent, err)
		}
	}
	deadline := time.Now().Add(t.timeout)
	if d, ok := r.Context().Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	if err := r.Context().Err(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrNotSent, err)
	}
	resp := fasthttp.AcquireResponse()
	defer fasthttp.ReleaseResponse(resp)
	if t.observer != nil {
		t.observer.RequestSent(r.Method, strings.TrimPrefix(r.URL.Path, "/ari"), r.URL.RawQuery, req.Body(), time.Now())
	}
	if err := t.client.DoDeadline(req, resp, deadline); err != nil {
		if errors.Is(err, fasthttp.ErrTimeout) {
			err = fmt.Errorf("%w (%w)", err, context.DeadlineExceeded)
		}
		if connectFailed(err) {
			return nil, fmt.Errorf("%w: %w", ErrNotSent, err)
		}
		return nil, err
	}
	code := resp.StatusCode()
	if err := refusal(code, r.Method, r.URL.Path); err != nil {
		return nil, err
	}
	h := http.Header{}
	if ct := resp.Header.ContentType(); len(ct) > 0 {
		h["Content-Type"] = []string{contentType(ct)}
	}
	return &http.Response{
		Status: status(code, resp.Header.StatusMessage()), StatusCode: code,
		Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: h, ContentLength: int64(len(resp.Body())), Body: newResponseBody(resp.Body()),
		Request: r,
	}, nil
}

// copyBody copies r's body into req's, straight from a body that writes
// itself (the bytes.Buffer and bytes.Reader the ari library and Link.do
// send), else through readAll. A body that is not as long as r says is
// refused, as net/http's transport refuses it; one of unknown length
// (ContentLength 0 with a body) is read whole.
func copyBody(req *fasthttp.Request, r *http.Request) error {
	if wt, ok := r.Body.(io.WriterTo); ok && r.ContentLength > 0 {
		req.ResetBody()
		n, err := wt.WriteTo(req.BodyWriter())
		if err == nil && n != r.ContentLength {
			err = fmt.Errorf("the body is %d bytes, not the %d its length says", n, r.ContentLength)
		}
		return err
	}
	length := r.ContentLength
	if length == 0 && r.Body != http.NoBody {
		length = -1
	}
	body, err := readAll(r.Body, length)
	if err != nil {
		return err
	}
	req.SetBodyRaw(body)
	return nil
}

// status is a response's status line after the protocol: the code and the
// reason Asterisk gave, or the code's standard text if it gave none. The
// usual ones are made once, not for every response.
func status(code int, reason []byte) string {
	if std := http.StatusText(code); len(reason) == 0 || string(reason) == std {
		if line, ok := statusLines[code]; ok {
			return line
		}
		return strconv.Itoa(code) + " " + std
	}
	return strconv.Itoa(code) + " " + string(reason)
}

// statusLines are the status lines of the codes Asterisk's ARI answers.
var statusLines = func() map[int]string {
	m := map[int]string{}
	for _, code := range []int{200, 201, 204, 400, 401, 403, 404, 409, 412, 422, 500, 501, 503} {
		m[code] = strconv.Itoa(code) + " " + http.StatusText(code)
	}
	return m
}()

// contentType returns ct as a string, the JSON type every ARI answer has
// without a copy.
func contentType(ct []byte) string {
	const jsonType = "application/json"
	if string(ct) == jsonType {
		return jsonType
	}
	return string(ct)
}

// responseBody holds a response's body (a copy: fasthttp's buffer goes
// back to its pool). One value for the reader and its Close.
type responseBody struct{ bytes.Reader }

func (*responseBody) Close() error { return nil }

func newResponseBody(b []byte) io.ReadCloser {
	if len(b) == 0 {
		return http.NoBody
	}
	body := new(responseBody)
	body.Reset(bytes.Clone(b))
	return body
}

// connectFailed reports errors raised before a request is written: no
// pooled connection came free in time, or connecting failed.
func connectFailed(err error) bool {
	var d *dialError
	return errors.Is(err, fasthttp.ErrNoFreeConns) || errors.As(err, &d)
}

// readAll reads a request body of n bytes (n < 0: unknown).
func readAll(r io.Reader, n int64) ([]byte, error) {
	if n >= 0 && n <= 1<<20 {
		b := make([]byte, n)
		if _, err := io.ReadFull(r, b); err != nil {
			return nil, err
		}
		// Longer than its length says: refused, as net/http does.
		if m, _ := r.Read(make([]byte, 1)); m > 0 {
			return nil, fmt.Errorf("the body is longer than the %d bytes its length says", n)
		}
		return b, nil
	}
	return io.ReadAll(r)
}

// refusal is the error of an ARI answer refusing the user: 401 (user or
// password wrong) or 403 (a read_only user asked to change something).
func refusal(code int, method, path string) error {
	// With its status, as every refusal Asterisk gives (StatusCode reads
	// it: a refused request did not run).
	switch code {
	case http.StatusUnauthorized:
		return &statusError{code: code, wrapped: ErrUnauthorized, text: fmt.Sprintf("%v: %s %s: 401: check ari.user and ari.password (or TORITSUGI_ARI_PASSWORD) against the user's section of Asterisk's ari.conf", ErrUnauthorized, method, path)}
	case http.StatusForbidden:
		return &statusError{code: code, wrapped: ErrUnauthorized, text: fmt.Sprintf("%v: %s %s: 403: the ARI user is read-only (set read_only = no in its section of Asterisk's ari.conf)", ErrUnauthorized, method, path)}
	}
	return nil
}
