package asteriskconf

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"unicode/utf8"
)

// ErrCheck is wrapped by every *Problem.
var ErrCheck = errors.New("asterisk configuration problem")

// Problem is something Check found wrong, at a file and line when known.
type Problem struct {
	File string // base name, e.g. "pjsip.conf"
	Line int    // 0 when the problem is an absence
	Msg  string
}

// Error formats the problem as file:line: message.
func (p *Problem) Error() string {
	if p.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", p.File, p.Line, p.Msg)
	}
	return fmt.Sprintf("%s: %s", p.File, p.Msg)
}

// Unwrap makes errors.Is(err, ErrCheck) true.
func (p *Problem) Unwrap() error { return ErrCheck }

// Check verifies the configuration directory dir (what goes to
// /etc/asterisk) for the ARI application app and the operators:
//   - extensions.conf [from-trunk] calls Stasis(app,inbound,...) and checks
//     tests STASISSTATUS for FAILED after it, in every extension that calls
//     Stasis;
//   - ari.conf has ARI enabled and a user with a password;
//   - http.conf enables the HTTP server with a bind address, serves
//     plain HTTP on loopback only and, with TLS on, does not serve it
//     on every address (tlsbindaddr 0.0.0.0 or [::]);
//   - pjsip.conf defines every operator endpoint (PJSIP/<name>) as
//     type=endpoint, directly or through templates, with an existing aor and
//     auth;
//   - pjsip.conf has an identify with a match for an existing endpoint whose
//     context exists in extensions.conf;
//   - pjsip.conf defines no object twice (name and type): Asterisk would
//     then load no object of that type at all;
//   - ari.conf and pjsip.conf keep none of the kit's placeholders: a
//     CHANGE_ME value (the kit's passwords are public) or an address of
//     the documentation ranges (the example carrier).
//
// It returns every problem found (parse errors included), nil when none.
func Check(dir string, app string, operators []Operator) []error {
	c := checker{dir: dir, files: map[string]*File{}}
	for _, name := range []string{"extensions.conf", "ari.conf", "http.conf", "pjsip.conf"} {
		c.load(name)
	}
	if f := c.files["extensions.conf"]; f != nil {
		c.checkDialplan(f, app)
	}
	if f := c.files["ari.conf"]; f != nil {
		c.checkARI(f)
		c.checkPlaceholders(f)
	}
	if f := c.files["http.conf"]; f != nil {
		c.checkHTTP(f)
	}
	if f := c.files["pjsip.conf"]; f != nil {
		c.checkOperators(f, operators)
		c.checkTrunk(f, c.files["extensions.conf"])
		c.checkDuplicates(f)
		c.checkPlaceholders(f)
	}
	return c.errs
}

type checker struct {
	dir   string
	files map[string]*File
	errs  []error
}

func (c *checker) problem(file string, line int, format string, args ...any) {
	c.errs = append(c.errs, &Problem{File: file, Line: line, Msg: fmt.Sprintf(format, args...)})
}

func (c *checker) load(name string) {
	fh, err := os.Open(filepath.Join(c.dir, name))
	if err != nil {
		c.errs = append(c.errs, fmt.Errorf("%s: %w", name, err))
		return
	}
	defer fh.Close()
	f, err := Parse(name, fh)
	if err != nil {
		c.errs = append(c.errs, err)
		return
	}
	c.files[name] = f
}

func (c *checker) checkDialplan(f *File, app string) {
	ctx := f.Lookup("from-trunk")
	if len(ctx) == 0 {
		c.problem(f.Name, 0, "no [from-trunk] context")
		return
	}
	if !c.checkContext(f, ctx, app) {
		c.problem(f.Name, ctx[0].Line, "[from-trunk] never calls Stasis(%s,inbound,${EXTEN})", app)
	}
	// A gateway that calls an extension (pjsip.conf's [hgw]): optional.
	if hgw := f.Lookup("from-hgw"); len(hgw) > 0 && !c.checkContext(f, hgw, app) {
		c.problem(f.Name, hgw[0].Line, "[from-hgw] never calls Stasis(%s,inbound,${EXTEN},to)", app)
	}
}

// checkContext checks every extension of a context's sections and reports
// whether one of them calls Stasis(app,inbound,…).
//
// An extension that calls Stasis under a pattern that also matches "h"
// needs an exact h extension in the context: Asterisk runs h when a call
// hangs up, and the pattern would send every ended call into Stasis once
// more.
func (c *checker) checkContext(f *File, sections []Object, app string) bool {
	found, hangupExten := false, false
	var catchesH []extension
	for _, o := range sections {
		for _, ext := range extensions(o) {
			if ext.pattern == "h" {
				hangupExten = true
			}
			if c.checkExtension(f.Name, ext, app) {
				found = true
				if strings.HasPrefix(ext.pattern, "_") && patternMatches(ext.pattern[1:], "h") {
					catchesH = append(catchesH, ext)
				}
			}
		}
	}
	if !hangupExten {
		for _, ext := range catchesH {
			c.problem(f.Name, ext.steps[0].Line, "pattern %s also matches h, which Asterisk runs when a call hangs up: add exten => h,1,NoOp() to the context, or every ended call enters Stasis again", ext.pattern)
		}
	}
	return found
}

// patternMatches reports whether the dialplan pattern p (without its
// leading _) matches the whole of s: X, Z and N are digits 0-9, 1-9 and
// 2-9, [...] a set with ranges, . one or more characters, ! zero or more;
// anything else matches itself.
func patternMatches(p, s string) bool {
	if p == "" {
		return s == ""
	}
	switch p[0] {
	case '.':
		return s != ""
	case '!':
		return true
	}
	if s == "" {
		return false
	}
	var ok bool
	rest := p[1:]
	switch ch := s[0]; p[0] {
	case 'X', 'x':
		ok = ch >= '0' && ch <= '9'
	case 'Z', 'z':
		ok = ch >= '1' && ch <= '9'
	case 'N', 'n':
		ok = ch >= '2' && ch <= '9'
	case '[':
		end := strings.IndexByte(p, ']')
		if end < 0 {
			return false
		}
		set := p[1:end]
		for i := 0; i < len(set); i++ {
			if i+2 < len(set) && set[i+1] == '-' {
				ok = ok || ch >= set[i] && ch <= set[i+2]
				i += 2
				continue
			}
			ok = ok || ch == set[i]
		}
		rest = p[end+1:]
	default:
		ok = ch == p[0]
	}
	return ok && patternMatches(rest, s[1:])
}

// extension is one dialplan extension: its exten line and same lines.
type extension struct {
	pattern string
	steps   []Entry // application part of each priority line
}

func extensions(o Object) []extension {
	var out []extension
	for _, e := range o.Entries {
		switch e.Key {
		case "exten":
			parts := strings.SplitN(e.Value, ",", 3)
			ext := extension{pattern: strings.TrimSpace(parts[0])}
			if len(parts) == 3 {
				ext.steps = append(ext.steps, Entry{Key: "exten", Value: parts[2], Line: e.Line})
			}
			out = append(out, ext)
		case "same":
			if len(out) == 0 {
				continue
			}
			_, step, ok := strings.Cut(e.Value, ",")
			if ok {
				last := &out[len(out)-1]
				last.steps = append(last.steps, Entry{Key: "same", Value: step, Line: e.Line})
			}
		}
	}
	return out
}

// checkExtension reports whether ext calls Stasis(app,inbound,...), and
// records a problem when the call is wrong or has no fallback. The
// arguments toritsugi reads are Stasis(app,inbound,<DID>) and, for a
// gateway that puts the dialled number in the To header,
// Stasis(app,inbound,<extension>,to); <DID> may be any expression
// (${EXTEN}, ${CUT(...)}).
func (c *checker) checkExtension(file string, ext extension, app string) bool {
	for i, step := range ext.steps {
		args, ok := appArgs(step.Value, "Stasis")
		if !ok {
			continue
		}
		good := len(args) == 3 || len(args) == 4 && args[3] == "to"
		if !good || args[0] != app || args[1] != "inbound" || args[2] == "" {
			c.problem(file, step.Line, "extension %s calls Stasis(%s), want Stasis(%s,inbound,${EXTEN}) (or ...,${EXTEN},to: the number in the To header)", ext.pattern, strings.Join(args, ","), app)
			return false
		}
		for _, later := range ext.steps[i+1:] {
			if strings.Contains(later.Value, "STASISSTATUS") && strings.Contains(later.Value, "FAILED") {
				return true
			}
		}
		c.problem(file, step.Line, "extension %s has no STASISSTATUS = FAILED fallback after Stasis()", ext.pattern)
		return true
	}
	return false
}

// appArgs returns the arguments of a dialplan application call such as
// "n(label),Stasis(a,b)" or "Stasis(a,b)".
func appArgs(step, app string) ([]string, bool) {
	step = strings.TrimSpace(step)
	i := strings.Index(strings.ToLower(step), strings.ToLower(app)+"(")
	if i < 0 || i > 0 && step[i-1] != ',' && step[i-1] != ' ' {
		return nil, false
	}
	inner := step[i+len(app)+1:]
	end := strings.LastIndexByte(inner, ')')
	if end < 0 {
		return nil, false
	}
	return splitArgs(inner[:end]), true
}

// splitArgs splits application arguments on the commas outside
// parentheses and braces: ${CUT(${X},@,1)} is one argument, as Asterisk
// substitutes it before splitting.
func splitArgs(s string) []string {
	var args []string
	depth, start := 0, 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '(', '{':
			depth++
		case ')', '}':
			if depth > 0 {
				depth--
			}
		case ',':
			if depth == 0 {
				args = append(args, strings.TrimSpace(s[start:i]))
				start = i + 1
			}
		}
	}
	return append(args, strings.TrimSpace(s[start:]))
}

func (c *checker) checkARI(f *File) {
	for _, g := range f.Lookup("general") {
		if v, ok := g.Get("enabled"); ok && !truthy(v) {
			c.problem(f.Name, g.Line, "ARI is disabled (enabled = %s)", v)
		}
	}
	// ari.conf is loaded through sorcery, as pjsip.conf is: a user
	// defined twice makes Asterisk refuse the whole file, and every ARI
	// request is then refused.
	users := map[string]int{}
	for _, o := range f.Objects() {
		if o.Template || o.Type() != "user" {
			continue
		}
		if line, dup := users[o.Name]; dup {
			c.problem(f.Name, o.Line, "ARI user [%s] is defined twice (first at line %d): Asterisk would load no ARI user at all; remove one", o.Name, line)
			continue
		}
		users[o.Name] = o.Line
	}
	for _, o := range f.Objects() {
		if o.Template || o.Type() != "user" {
			continue
		}
		if pw, _ := o.Get("password"); pw != "" {
			if why := weakPassword(o.Name, pw); why != "" {
				c.problem(f.Name, o.Line, "ARI user %q: the password %s: ARI can dial out through the trunk; use at least %d random characters", o.Name, why, MinPasswordLen)
			}
			return
		}
		c.problem(f.Name, o.Line, "ARI user %q has no password", o.Name)
		return
	}
	c.problem(f.Name, 0, "no ARI user (a section with type = user)")
}

func (c *checker) checkHTTP(f *File) {
	gen := f.Lookup("general")
	if len(gen) == 0 {
		c.problem(f.Name, 0, "no [general] section")
		return
	}
	g := gen[len(gen)-1]
	if v, _ := g.Get("enabled"); !truthy(v) {
		c.problem(f.Name, g.Line, "HTTP server not enabled (enabled = yes)")
	}
	v, _ := g.Get("bindaddr")
	switch {
	case v == "":
		c.problem(f.Name, g.Line, "no bindaddr: the HTTP server would not start")
	case !loopback(v):
		c.problem(f.Name, g.Line, "bindaddr = %s serves ARI over plain HTTP beyond this host: the ARI password and callers' numbers would cross the network unencrypted; keep bindaddr = 127.0.0.1 and, for toritsugi on another host, use TLS (tlsenable, tlsbindaddr)", v)
	}
	// With TLS on, tlsbindaddr (or else bindaddr, port 8089) is where
	// HTTPS listens: a private or VPN address, never every one.
	if on, _ := g.Get("tlsenable"); truthy(on) {
		if tv, _ := g.Get("tlsbindaddr"); everyAddress(tv) {
			c.problem(f.Name, g.Line, "tlsbindaddr = %s serves ARI on every address of this host: anyone who reaches the port can try the ARI password, and ARI can dial out through the trunk; bind TLS to the private or VPN address toritsugi reaches this host at", tv)
		}
	}
}

// everyAddress reports whether an http.conf bind address (with or
// without its port) is the wildcard: 0.0.0.0 or ::.
func everyAddress(addr string) bool {
	addr = strings.TrimSpace(addr)
	if host, _, err := net.SplitHostPort(addr); err == nil {
		addr = host
	}
	ip := net.ParseIP(strings.Trim(addr, "[]"))
	return ip != nil && ip.IsUnspecified()
}

// loopback reports whether an http.conf bindaddr is this host only.
func loopback(addr string) bool {
	addr = strings.TrimSpace(addr)
	if host, _, err := net.SplitHostPort(addr); err == nil {
		addr = host // Asterisk takes an address with its port
	}
	addr = strings.Trim(addr, "[]")
	if addr == "localhost" {
		return true
	}
	ip := net.ParseIP(addr)
	return ip != nil && ip.IsLoopback()
}

func (c *checker) checkOperators(f *File, ops []Operator) {
	for _, op := range ops {
		name, err := op.EndpointName()
		if err != nil {
			c.errs = append(c.errs, err)
			continue
		}
		ep, ok := objectOfType(f, name, "endpoint")
		if !ok {
			c.problem(f.Name, 0, "operator %q: no endpoint [%s] (type = endpoint)", op.ID, name)
			continue
		}
		c.checkRefs(f, ep, "aors", "aor", op.ID)
		c.checkRefs(f, ep, "auth", "auth", op.ID)
		v, _ := ep.Get("auth")
		for _, n := range splitList(v) {
			a, ok := objectOfType(f, n, "auth")
			if !ok {
				continue
			}
			user, _ := a.Get("username")
			pw, _ := a.Get("password")
			if why := weakPassword(user, pw); why != "" {
				c.problem(f.Name, a.Line, "operator %q: auth [%s]: the password %s: softphones register across the Internet, where guesses come by the thousand; use at least %d random characters", op.ID, a.Name, why, MinPasswordLen)
			}
		}
	}
}

// MinPasswordLen is the fewest characters of an operator's SIP password
// and of the ARI password Check and RenderOperators accept.
const MinPasswordLen = 12

// weakPassword says what is wrong with password pw of user, "" when
// nothing (the kit's CHANGE_ME placeholders are reported on their own).
func weakPassword(user, pw string) string {
	switch {
	case strings.Contains(pw, "CHANGE_ME"):
		return ""
	case utf8.RuneCountInString(pw) < MinPasswordLen:
		return fmt.Sprintf("is shorter than %d characters", MinPasswordLen)
	case user != "" && utf8.RuneCountInString(strings.ReplaceAll(strings.ToLower(pw), strings.ToLower(user), "")) < 8:
		return "is mostly its user name"
	}
	return ""
}

// checkRefs checks that ep names at least one object of kind in key and that
// every named object exists.
func (c *checker) checkRefs(f *File, ep Object, key, kind, opID string) {
	v, _ := ep.Get(key)
	names := splitList(v)
	if len(names) == 0 {
		c.problem(f.Name, ep.Line, "operator %q: endpoint [%s] has no %s", opID, ep.Name, key)
		return
	}
	for _, n := range names {
		if _, ok := objectOfType(f, n, kind); !ok {
			c.problem(f.Name, ep.Line, "operator %q: endpoint [%s] names %s %q, which is not defined (type = %s)", opID, ep.Name, key, n, kind)
		}
	}
}

func (c *checker) checkTrunk(f, dialplan *File) {
	found := false
	for _, o := range f.Objects() {
		if o.Template || o.Type() != "identify" {
			continue
		}
		found = true
		if m, _ := o.Get("match"); m == "" {
			c.problem(f.Name, o.Line, "identify [%s] has no match", o.Name)
		}
		epName, _ := o.Get("endpoint")
		ep, ok := objectOfType(f, epName, "endpoint")
		if !ok {
			c.problem(f.Name, o.Line, "identify [%s] names endpoint %q, which is not defined", o.Name, epName)
			continue
		}
		ctx, _ := ep.Get("context")
		if dialplan != nil && len(dialplan.Lookup(ctx)) == 0 {
			c.problem(f.Name, ep.Line, "endpoint [%s] uses context %q, which extensions.conf does not define", ep.Name, ctx)
		}
	}
	if !found {
		c.problem(f.Name, 0, "no trunk identify (type = identify with match and endpoint)")
	}
}

func objectOfType(f *File, name, kind string) (Object, bool) {
	for _, o := range f.Lookup(name) {
		if o.Type() == kind {
			return o, true
		}
	}
	return Object{}, false
}

func splitList(v string) []string {
	var out []string
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

func truthy(v string) bool {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "yes", "true", "y", "t", "1", "on":
		return true
	}
	return false
}

// checkDuplicates reports a second object of one name and type. Asterisk's
// sorcery refuses such a file for that type: no object of it loads (every
// endpoint, the trunk's included), as happens when toritsugi's printed
// operator sections are pasted next to the kit's own.
func (c *checker) checkDuplicates(f *File) {
	first := map[[2]string]int{}
	for _, o := range f.Objects() {
		if o.Template {
			continue
		}
		k := [2]string{o.Name, o.Type()}
		if line, dup := first[k]; dup {
			c.problem(f.Name, o.Line, "[%s] type = %s is defined twice (first at line %d): Asterisk would load no %s at all; remove one (pasting printed operator sections: delete the kit's own first)", o.Name, o.Type(), line, o.Type())
			continue
		}
		first[k] = o.Line
	}
}

// checkPlaceholders reports values the kit ships for the user to replace.
func (c *checker) checkPlaceholders(f *File) {
	for _, s := range f.Sections {
		for _, e := range s.Entries {
			switch {
			case strings.Contains(e.Value, "CHANGE_ME"):
				c.problem(f.Name, e.Line, "[%s] %s is still the kit's placeholder %q: set your own (the kit is public)", s.Name, e.Key, e.Value)
			case documentationAddress(e.Value):
				c.problem(f.Name, e.Line, "[%s] %s = %s is an example address (a documentation range): put your carrier's", s.Name, e.Key, e.Value)
			}
		}
	}
}

// documentationRanges are the IPv4 and IPv6 ranges reserved for examples
// (RFC 5737, RFC 3849).
var documentationRanges = []netip.Prefix{
	netip.MustParsePrefix("192.0.2.0/24"),
	netip.MustParsePrefix("198.51.100.0/24"),
	netip.MustParsePrefix("203.0.113.0/24"),
	netip.MustParsePrefix("2001:db8::/32"),
}

// documentationAddress reports whether v names an IP address of a
// documentation range: alone, as a CIDR, or in a SIP URI (sip:host:port).
func documentationAddress(v string) bool {
	for _, tok := range strings.FieldsFunc(v, func(r rune) bool {
		return r == ',' || r == ' ' || r == '\t' || r == '/' || r == '@' || r == ';' || r == '[' || r == ']'
	}) {
		tok = strings.TrimPrefix(strings.TrimPrefix(tok, "sips:"), "sip:")
		if h, _, ok := strings.Cut(tok, ":"); ok && strings.Count(tok, ":") == 1 {
			tok = h // host:port
		}
		a, err := netip.ParseAddr(tok)
		if err != nil {
			continue
		}
		for _, p := range documentationRanges {
			if p.Contains(a.Unmap()) {
				return true
			}
		}
	}
	return false
}
