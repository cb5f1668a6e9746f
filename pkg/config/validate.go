package config

import (
	"fmt"
	"math"
	"net"
	"net/url"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/toritsugi/toritsugi/pkg/reception"
)

// checker turns raw values into typed ones, reporting each problem at the
// position of its field.
type checker struct {
	doc     *document
	fromEnv map[string]string // key path -> environment variable that set it
	env     func(string) (string, bool)
	// envReaders are the key paths by environment variable they read
	// (envOr), the first of each: two keys must not read one variable.
	envReaders map[string]string
	// dir is where relative script paths are read from by readFile.
	dir      string
	readFile func(path string) ([]byte, error)
	// sources are the other files read (or tried), by the paths read.
	sources []sourceFile
	// destinations are the names in relay.destinations, for client relay sections.
	destNames map[string]bool
	// warnings are problems that do not stop the file from loading.
	warnings Errors
}

// warnf records a warning at path: the configuration loads, and the
// warning is logged (and printed by check-config).
func (c *checker) warnf(path, format string, args ...any) {
	p := c.doc.at(path)
	c.warnings = append(c.warnings, &FieldError{File: c.doc.file, Line: p.Line, Column: p.Col, Path: path, Msg: fmt.Sprintf(format, args...)})
}

func (c *checker) errf(path, format string, args ...any) {
	if c.doc.suppressed(path) {
		return
	}
	msg := fmt.Sprintf(format, args...)
	if env, ok := c.fromEnv[path]; ok {
		msg += " (from $" + env + ")"
	}
	c.doc.addAt(c.doc.at(path), path, msg)
}

// required reports an empty value; it returns whether the value is present.
func (c *checker) required(path, val string) bool {
	if strings.TrimSpace(val) == "" {
		msg := "is required"
		for _, o := range envOverrides {
			if o.key == path {
				msg += " (in the file or as $" + o.env + ")"
			}
		}
		c.errf(path, "%s", msg)
		return false
	}
	return true
}

// uniqueID checks the id of the entry at path against its pattern and the
// ids seen so far (id -> path of the entry that has it).
func (c *checker) uniqueID(path, id string, pattern *regexp.Regexp, patternMsg string, seen map[string]string) {
	if !c.required(childPath(path, "id"), id) {
		return
	}
	switch first, dup := seen[id]; {
	case !pattern.MatchString(id):
		c.errf(childPath(path, "id"), "%q "+patternMsg, id)
	case dup:
		c.errf(childPath(path, "id"), "%q is already the id of %s", id, first)
	default:
		seen[id] = path
	}
}

// duration parses a Go duration; zero is allowed only when allowZero.
func (c *checker) duration(path, s string, allowZero bool) time.Duration {
	d, err := time.ParseDuration(strings.TrimSpace(s))
	switch {
	case err != nil:
		c.errf(path, "%q is not a duration (write e.g. 30s, 2m, 1h30m)", s)
	case d < 0 && allowZero:
		c.errf(path, "%q must not be negative (0 turns it off)", s)
	case d <= 0 && !allowZero:
		c.errf(path, "%q must be longer than zero", s)
	}
	return d
}

func (c *checker) count(path, s string) int {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	switch {
	case err != nil:
		c.errf(path, "%q is not a whole number", s)
	case n < 0:
		c.errf(path, "%q must not be negative", s)
	}
	return n
}

// MaxRetentionDays bounds the retention settings: 100 years. More is no
// retention anyone means, and days of it overflow a time.Duration (about
// 106,751 days), which turned "keep them for ever" into "delete them now".
const MaxRetentionDays = 36500

// retentionDays reads a number of days, min (0 or 1) to MaxRetentionDays.
func (c *checker) retentionDays(path, s string, min int) int {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	switch {
	case err != nil || n < min:
		c.errf(path, "%q is not a number of days (%d or more)", s, min)
	case n > MaxRetentionDays:
		c.errf(path, "%q is more than %d days (100 years): keep them 100 years at most", s, MaxRetentionDays)
	}
	return n
}

// MinCallRecordDays is the shortest call_record_retention_days: the last
// full month's records are kept for its reports (its counts stay anyway).
const MinCallRecordDays = 62

// callRecordDays reads call_record_retention_days: 0 (keep), or at least
// MinCallRecordDays.
func (c *checker) callRecordDays(s string) int {
	n := c.retentionDays("call_record_retention_days", s, 0)
	if n > 0 && n < MinCallRecordDays {
		c.errf("call_record_retention_days", "%d days is too short: at least %d (the last full month's records, for its reports), or 0 to keep them", n, MinCallRecordDays)
	}
	return n
}

// Days is n days of 24 hours, as in Japan (no daylight saving time),
// whatever the machine's zone (time.AddDate would count them in its zone),
// at most the longest time.Duration.
func Days(n int) time.Duration {
	if n > int(math.MaxInt64/int64(24*time.Hour)) {
		return math.MaxInt64
	}
	return time.Duration(n) * 24 * time.Hour
}

// boolean reads true or false.
func (c *checker) boolean(path, s string) bool {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "true":
		return true
	case "false":
		return false
	}
	c.errf(path, "%q is not true or false", s)
	return false
}

// oneOf checks that s is one of allowed and returns it as allowed spells
// it: capitals are taken (INFO, Voicemail, Ringback, as `action: VIP` is).
func (c *checker) oneOf(path, s string, allowed ...string) string {
	for _, a := range allowed {
		if strings.EqualFold(strings.TrimSpace(s), a) {
			return a
		}
	}
	c.errf(path, "%q is not one of %s", s, strings.Join(allowed, ", "))
	return s
}

var mediaPrefixes = []string{"sound:", "recording:", "tone:", "digits:"}

// media checks an Asterisk media URI such as sound:toritsugi/acme-greeting.
func (c *checker) media(path, s string) {
	if strings.ContainsRune(s, '\u3000') {
		// Passed by a space check for ASCII only, Asterisk would find no
		// such sound when the call comes in.
		c.errf(path, "%q has a full-width space (全角スペース) in it: a media URI has no spaces", s)
		return
	}
	for _, p := range mediaPrefixes {
		if rest, ok := strings.CutPrefix(s, p); ok && rest != "" && strings.IndexFunc(rest, unicode.IsSpace) < 0 {
			return
		}
	}
	c.errf(path, "%q is not a media URI (write sound:..., recording:..., tone:... or digits:...)", s)
}

var appName = regexp.MustCompile(`^[A-Za-z0-9_.-]+$`)

func (c *checker) ari(r rawARI) ARI {
	a := ARI{URL: r.URL, User: r.User, Password: r.Password, App: r.App}
	switch u, err := url.Parse(r.URL); {
	case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
		c.errf("ari.url", "%q is not an http:// or https:// URL", redactURL(r.URL))
	case u.User != nil:
		// The URL is logged at start and in every "ARI link down"
		// warning: a password in it would be in the log in clear.
		c.errf("ari.url", "%q has a user name or password in it: put them in ari.user and ari.password (or $TORITSUGI_ARI_USER, $TORITSUGI_ARI_PASSWORD), and the URL without them", redactURL(r.URL))
	}
	c.required("ari.user", r.User)
	if r.Password == "" {
		c.errf("ari.password", "is required (in the file or as $TORITSUGI_ARI_PASSWORD)")
	}
	if !appName.MatchString(r.App) {
		c.errf("ari.app", "%q is not a Stasis application name (letters, digits, _ . -)", r.App)
	}
	a.RequestTimeout = c.duration("ari.request_timeout", r.RequestTimeout, false)
	if d := a.RequestTimeout; d > 0 && (d < MinRequestTimeout || d > MaxRequestTimeout) {
		// Shorter, a loaded Asterisk's answers come too late and calls
		// fail; longer, a call waits that long on an Asterisk that does
		// not answer, its caller in silence (and a link check as long).
		c.errf("ari.request_timeout", "%q is not from 1s to 60s: Asterisk answers a REST call in milliseconds; one it does not answer in seconds is failed and tried again", r.RequestTimeout)
	}
	a.PingInterval = c.duration("ari.ping_interval", r.PingInterval, false)
	return a
}

// redactURL is s with the password of its user information, if any,
// replaced by xxxxx, for an error message: s as written when it has no
// password, url.URL.Redacted when it parses, and otherwise whatever stands between "://" and the last "@"
// before the path after the first ":" (a URL that does not parse may
// still carry a password).
func redactURL(s string) string {
	if u, err := url.Parse(s); err == nil {
		if _, has := u.User.Password(); has {
			return u.Redacted()
		}
		return s // as written
	}
	scheme, rest, ok := strings.Cut(s, "://")
	if !ok {
		return s
	}
	authority, path := rest, ""
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		authority, path = rest[:i], rest[i:]
	}
	at := strings.LastIndex(authority, "@")
	if at < 0 {
		return s
	}
	user, _, hasPassword := strings.Cut(authority[:at], ":")
	if !hasPassword {
		return s
	}
	return scheme + "://" + user + ":xxxxx" + authority[at:] + path
}

func (c *checker) listen(path, s string) {
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		c.errf(path, "%q is not host:port", s)
		return
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		c.errf(path, "%q has an invalid port", s)
	}
	_ = host // an empty host listens on every interface
}

// sameListen reports whether listening on a and on b would take one
// port: the same port (not 0, which the system picks), on the same host
// or with either on every interface (no host, 0.0.0.0 or ::).
func sameListen(a, b string) bool {
	ha, pa, errA := net.SplitHostPort(a)
	hb, pb, errB := net.SplitHostPort(b)
	if errA != nil || errB != nil {
		return a == b
	}
	na, errA := strconv.Atoi(pa)
	nb, errB := strconv.Atoi(pb)
	if errA != nil || errB != nil || na != nb || na == 0 {
		return false
	}
	any := func(h string) bool { return h == "" || h == "0.0.0.0" || h == "::" }
	return ha == hb || any(ha) || any(hb)
}

// queue converts a queue section; fields absent from raw stay nil.
func (c *checker) queue(path string, r rawQueue) QueueOverride {
	var o QueueOverride
	if r.Strategy != nil {
		s := Strategy(c.oneOf(childPath(path, "strategy"), *r.Strategy,
			string(StrategyLongestIdle), string(StrategyRoundRobin), string(StrategyRingAll)))
		o.Strategy = &s
	}
	durations := []struct {
		key       string
		raw       *string
		dst       **time.Duration
		allowZero bool
	}{
		{"ring_timeout", r.RingTimeout, &o.RingTimeout, false},
		{"max_wait", r.MaxWait, &o.MaxWait, false},
		{"wrapup", r.Wrapup, &o.Wrapup, true},
		{"wrapup_hold", r.WrapupHold, &o.WrapupHold, true},
		{"escalate_after", r.EscalateAfter, &o.EscalateAfter, true},
		{"announce_period", r.AnnouncePeriod, &o.AnnouncePeriod, true},
	}
	for _, d := range durations {
		if d.raw != nil {
			v := c.duration(childPath(path, d.key), *d.raw, d.allowZero)
			*d.dst = &v
		}
	}
	if d := o.RingTimeout; d != nil && *d > 0 && *d < MinRingTimeout {
		c.errf(childPath(path, "ring_timeout"), "%q is too short: an operator's phone takes seconds to ring and be picked up; give %s or more", *r.RingTimeout, MinRingTimeout)
	}
	if d := o.AnnouncePeriod; d != nil && *d > 0 && *d < MinAnnouncePeriod {
		// An announcement lasts seconds itself: callers would hear
		// nothing else (app_queue's min-announce-frequency is 15 s).
		c.errf(childPath(path, "announce_period"), "%q is too short: give %s or more, or 0s for no announcements", *r.AnnouncePeriod, MinAnnouncePeriod)
	}
	if r.MOHClass != nil {
		if c.required(childPath(path, "moh_class"), *r.MOHClass) {
			m := *r.MOHClass
			o.MOHClass = &m
		}
	}
	if r.AutoPauseAfter != nil {
		n := c.count(childPath(path, "auto_pause_after"), *r.AutoPauseAfter)
		o.AutoPauseAfter = &n
	}
	if r.MaxCallers != nil {
		n := c.count(childPath(path, "max_callers"), *r.MaxCallers)
		o.MaxCallers = &n
	}
	return o
}

// Bounds of the durations a file may set (YAML only: a Config built in
// Go, a test's, may set what it likes).
const (
	MinRequestTimeout = time.Second
	MaxRequestTimeout = time.Minute
	MinRingTimeout    = 5 * time.Second
	MinAnnouncePeriod = 15 * time.Second
)

// waits warns of a queue duration no caller lives to see, max_wait
// overflowing them first: a ring_timeout longer than max_wait (the first
// operator still ringing), an escalate_after not shorter (the wait never
// brings tier 2 in), a ringback client's ringback_max longer (never greeted). Each is
// warned of at the queue section that sets it, or at the client's
// max_wait that makes it so; the top-level queue's once.
func (c *checker) waits(cfg *Config) {
	type check struct {
		key     string
		d       time.Duration
		own     bool // set in this section
		orEqual bool
		what    string
	}
	warn := func(section string, maxWait time.Duration, ownMax bool, checks ...check) {
		for _, k := range checks {
			if k.d <= 0 || k.d < maxWait || (k.d == maxWait && !k.orEqual) || !(k.own || ownMax) {
				continue
			}
			at := childPath(section, "max_wait")
			if k.own {
				at = childPath(section, k.key)
			}
			than := "longer than"
			if k.orEqual {
				than = "not shorter than"
			}
			c.warnf(at, "%s %s is %s max_wait %s: %s", k.key, k.d, than, maxWait, k.what)
		}
	}
	const (
		ringing   = "callers overflow while the first operator they ring still rings"
		escalated = "callers overflow before the wait brings in operators of tier 2 and above"
	)
	q := cfg.Queue
	warn("queue", q.MaxWait, true,
		check{"ring_timeout", q.RingTimeout, true, false, ringing},
		check{"escalate_after", q.EscalateAfter, true, true, escalated})
	for i := range cfg.Clients {
		cl := &cfg.Clients[i]
		p := indexPath("clients", i)
		q, o := cl.QueueSettings(), cl.Queue
		warn(childPath(p, "queue"), q.MaxWait, o.MaxWait != nil,
			check{"ring_timeout", q.RingTimeout, o.RingTimeout != nil, false, ringing},
			check{"escalate_after", q.EscalateAfter, o.EscalateAfter != nil, true, escalated})
		if cl.AnswerMode == reception.AnswerRingback && cl.RingbackMax > q.MaxWait {
			c.warnf(childPath(p, "ringback_max"), "ringback_max %s is longer than max_wait %s: callers overflow still hearing ringback, never greeted", cl.RingbackMax, q.MaxWait)
		}
	}
}

// build converts and validates the whole configuration.
func (c *checker) build(r rawConfig) *Config {
	cfg := &Config{
		ARI:             c.ari(r.ARI),
		HTTP:            HTTP{Listen: r.HTTP.Listen},
		DataDir:         r.DataDir,
		LogLevel:        c.oneOf("log_level", r.LogLevel, "debug", "info", "warn", "error"),
		UnknownDIDSound: r.UnknownDIDSound,
		AnswerSilence:   r.AnswerSilence,
		Trunk:           r.Trunk,
		SoundsDir:       r.SoundsDir,
		FallbackLog:     r.FallbackLog,
	}
	if tech, ep, ok := strings.Cut(r.Trunk, "/"); !ok || tech == "" || ep == "" || strings.ContainsAny(r.Trunk, " @") {
		c.errf("trunk", "%q is not an endpoint: write TECH/endpoint, e.g. PJSIP/trunk", r.Trunk)
	}
	c.listen("http.listen", r.HTTP.Listen)
	if r.HTTP.APIListen != "" {
		c.listen("http.api_listen", r.HTTP.APIListen)
		if sameListen(r.HTTP.APIListen, r.HTTP.Listen) {
			c.errf("http.api_listen", "%q is http.listen's address: give the data API an address of its own, or leave api_listen out", r.HTTP.APIListen)
		}
		cfg.HTTP.APIListen = r.HTTP.APIListen
	}
	cfg.HTTP.APIToken = r.HTTP.APIToken
	if t := r.HTTP.APIToken; t != "" && len(t) < 16 {
		c.errf("http.api_token", "is too short: use at least 16 random characters")
	}
	if r.HTTP.SecureCookies != nil {
		cfg.HTTP.SecureCookies = c.boolean("http.secure_cookies", *r.HTTP.SecureCookies)
	}
	c.required("data_dir", r.DataDir)
	if r.FallbackLog != "" && !filepath.IsAbs(r.FallbackLog) {
		c.errf("fallback_log", "%q is not an absolute path (the file Asterisk's fallback writes, e.g. /var/spool/asterisk/toritsugi-fallback.log; \"\" for none)", r.FallbackLog)
	}
	c.media("unknown_did_sound", r.UnknownDIDSound)
	if r.AnswerSilence != "" {
		c.media("answer_silence", r.AnswerSilence)
	}
	cfg.Queue = c.queue("queue", r.Queue).Apply(DefaultQueue())
	cfg.Destinations = c.destinations("relay.destinations", r.Relay.Destinations)
	cfg.IntakeRetentionDays = c.retentionDays("intake_retention_days", r.IntakeRetentionDays, 0)
	cfg.CallRecordRetentionDays = c.callRecordDays(r.CallRecordRetentionDays)
	cfg.Clients = c.clients(r.Clients, cfg.Queue, cfg.IntakeRetentionDays)
	cfg.ClientAPITokens = c.apiTokens(cfg.HTTP.APIToken, cfg.Clients)
	cfg.Operators = c.operators(r.Operators, cfg.Clients)
	c.staffed(cfg)
	c.waits(cfg)
	for i, d := range cfg.Destinations {
		if users := cfg.DestinationUsers(d.Name); len(users) > 1 {
			// A copied client section that kept the other's destination
			// sends one client's callers to another's readers.
			c.warnf(childPath(indexPath("relay.destinations", i), "name"), "%q is used by %d clients (%s): each one's messages, callers' names and numbers, reach the others' readers; give each client its own destination, unless it is one of yours meant for all",
				d.Name, len(users), strings.Join(users, ", "))
		}
	}
	return cfg
}
