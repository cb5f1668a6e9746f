package config

import (
	"net"
	"net/mail"
	"net/url"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/toritsugi/toritsugi/pkg/intake"
	"github.com/toritsugi/toritsugi/pkg/relay"
)

var destinationName = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,63}$`)

var destinationTypes = []string{relay.TypeEmail, relay.TypeSlack, relay.TypeChatwork,
	relay.TypeTeams, relay.TypeLine, relay.TypeLineWorks, relay.TypeWebhook}

// DestinationEnv is the environment variable that supplies a destination's
// secret: DestinationEnv("acme-mail", "password") is
// TORITSUGI_RELAY_ACME_MAIL_PASSWORD. key is password, token, secret or
// client_secret.
func DestinationEnv(name, key string) string {
	return "TORITSUGI_RELAY_" + strings.ToUpper(strings.ReplaceAll(name, "-", "_")) + "_" + strings.ToUpper(key)
}

// destinations converts relay.destinations; it records their names for the
// clients' relay sections.
func (c *checker) destinations(path string, raws []rawDestination) []relay.Destination {
	c.destNames = map[string]bool{}
	seen := map[string]string{} // name -> path of its first use
	out := make([]relay.Destination, 0, len(raws))
	for i, r := range raws {
		p := indexPath(path, i)
		np := childPath(p, "name")
		if c.required(np, r.Name) {
			switch first, dup := seen[r.Name]; {
			case !destinationName.MatchString(r.Name):
				c.errf(np, "%q must be lower-case letters, digits and hyphens", r.Name)
			case dup:
				c.errf(np, "%q is already the name of %s", r.Name, first)
			default:
				seen[r.Name] = p
			}
			c.destNames[r.Name] = true
		}
		d := relay.Destination{
			Name: r.Name, Type: r.Type, URL: r.URL, To: r.To, RoomID: r.RoomID, BotID: r.BotID,
			Addr: r.Addr, From: r.From, Username: r.Username,
			Token:    c.secret(p, "token", r.Name, r.Token),
			Secret:   c.secret(p, "secret", r.Name, r.Secret),
			Password: c.secret(p, "password", r.Name, r.Password),
			ClientID: r.ClientID, ServiceAccount: r.ServiceAccount, Scope: r.Scope,
			ClientSecret: c.secret(p, "client_secret", r.Name, r.ClientSecret),
		}
		if r.PrivateKeyFile != "" {
			d.PrivateKey = c.privateKey(childPath(p, "private_key_file"), r.PrivateKeyFile)
		}
		if r.Insecure != "" {
			d.Insecure = c.boolean(childPath(p, "insecure"), r.Insecure)
		}
		if r.Timeout != "" {
			d.Timeout = c.duration(childPath(p, "timeout"), r.Timeout, false)
		}
		if c.required(childPath(p, "type"), r.Type) {
			d.Type = c.oneOf(childPath(p, "type"), r.Type, destinationTypes...)
			c.destinationFields(p, d, r.PrivateKeyFile != "")
		}
		out = append(out, d)
	}
	return out
}

// secret is the written value of key, replaced by its environment variable
// when that is set.
func (c *checker) secret(p, key, name, written string) string {
	if name == "" {
		return written
	}
	return c.envOr(childPath(p, key), DestinationEnv(name, key), written)
}

// envOr is environment variable env's value when it is set (and records
// that path's value came from it), written otherwise. Two keys whose
// variables are spelt alike (destination acme's client_secret and
// acme-client's secret: TORITSUGI_RELAY_ACME_CLIENT_SECRET) would take
// one value, the secret of one silently given to the other: when that
// variable is set, the second is refused.
func (c *checker) envOr(path, env, written string) string {
	if c.env == nil {
		return written
	}
	v, ok := c.env(env)
	set := ok && v != ""
	if first, dup := c.envReaders[env]; dup && first != path {
		if set {
			c.errf(path, "$%s is also the variable of %s: one of the two would take the other's value (rename one)", env, first)
		}
		return written
	}
	if c.envReaders == nil {
		c.envReaders = map[string]string{}
	}
	c.envReaders[env] = path
	if set {
		c.fromEnv[path] = env
		return v
	}
	return written
}

// destinationFields checks the fields the destination's type needs.
func (c *checker) destinationFields(p string, d relay.Destination, keyGiven bool) {
	need := func(key, val string) bool {
		if strings.TrimSpace(val) != "" {
			return true
		}
		msg := "is required for type " + d.Type
		if key == "password" || key == "token" || key == "secret" || key == "client_secret" {
			msg += " (in the file or as $" + DestinationEnv(d.Name, key) + ")"
		}
		c.errf(childPath(p, key), "%s", msg)
		return false
	}
	switch d.Type {
	case relay.TypeEmail:
		if need("addr", d.Addr) {
			c.smtpAddr(childPath(p, "addr"), d.Addr)
		}
		if need("from", d.From) {
			if _, err := mail.ParseAddress(d.From); err != nil {
				c.errf(childPath(p, "from"), "%q is not a mail address", d.From)
			}
		}
		if need("to", d.To) {
			if _, err := mail.ParseAddressList(d.To); err != nil {
				c.errf(childPath(p, "to"), "%q is not a comma-separated list of mail addresses", d.To)
			}
		}
		if d.Username != "" {
			need("password", d.Password)
		}
	case relay.TypeSlack, relay.TypeTeams:
		if need("url", d.URL) {
			c.httpsURL(childPath(p, "url"), d.URL)
			if d.Type == relay.TypeTeams && officeConnectorURL(d.URL) {
				c.warnf(childPath(p, "url"), "is an Office 365 connector URL, and Microsoft has retired connectors in Teams: messages may never arrive. "+
					"In the channel, add a Workflows webhook (the template \"Post to a channel when a webhook request is received\") and use its URL")
			}
		}
	case relay.TypeWebhook:
		if need("url", d.URL) {
			c.httpsURL(childPath(p, "url"), d.URL)
		}
		need("secret", d.Secret)
	case relay.TypeChatwork:
		need("room_id", d.RoomID)
		need("token", d.Token)
		c.optionalURL(p, d.URL)
	case relay.TypeLine:
		if need("to", d.To) && !lineID.MatchString(d.To) {
			c.errf(childPath(p, "to"), "%q is not a LINE user, group or room id (U, C or R and 32 hexadecimal digits)", d.To)
		}
		need("token", d.Token) // the channel access token
		c.optionalURL(p, d.URL)
	case relay.TypeLineWorks:
		need("bot_id", d.BotID)
		if d.ClientID != "" || d.Token == "" {
			// The service account: tokens got and renewed by toritsugi.
			need("client_id", d.ClientID)
			need("client_secret", d.ClientSecret)
			need("service_account", d.ServiceAccount)
			if !keyGiven {
				need("private_key_file", "")
			}
		}
		if d.RoomID == "" && d.To == "" {
			c.errf(childPath(p, "room_id"), "is required for type lineworks (or to: a user id)")
		}
		c.optionalURL(p, d.URL)
	}
}

func (c *checker) optionalURL(p, s string) {
	if s != "" {
		c.httpsURL(childPath(p, "url"), s)
	}
}

// httpsURL accepts https URLs, and http ones for this machine only.
func (c *checker) httpsURL(path, s string) {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		c.errf(path, "%q is not an https:// URL", relay.RedactURL(s))
		return
	}
	if u.Scheme == "http" && !isLoopbackHost(u.Hostname()) {
		c.errf(path, "%q must use https:// (http:// is allowed only for localhost and 127.0.0.1)", relay.RedactURL(s)+"/…")
	}
}

func isLoopbackHost(h string) bool {
	return h == "localhost" || h == "127.0.0.1" || h == "::1"
}

func (c *checker) smtpAddr(path, s string) {
	host, port, err := net.SplitHostPort(s)
	if err != nil || host == "" {
		c.errf(path, "%q is not host:port (e.g. smtp.example.jp:587)", s)
		return
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		c.errf(path, "%q has an invalid port", s)
	} else if n == 465 {
		// Otherwise every message would wait out its timeout for a
		// greeting that comes only after a TLS handshake, for hours of
		// retries.
		c.errf(path, "%q: port 465 is SMTP inside TLS from the first byte, which toritsugi does not speak: use the submission port 587 (STARTTLS)", s)
	}
}

// clientRelay converts a client's relay section.
func (c *checker) clientRelay(p string, r *rawClientRelay, cl *Client) {
	if r == nil {
		return
	}
	cl.RelayTo = c.destinationRefs(childPath(p, "to"), r.To)
	cl.RelayUrgent = c.destinationRefs(childPath(p, "urgent"), r.Urgent)
	for i, rr := range r.Rules {
		rp := indexPath(childPath(p, "rules"), i)
		rule := relay.Rule{Field: strings.TrimSpace(rr.Field)}
		c.required(childPath(rp, "field"), rr.Field)
		if rr.Equals == nil {
			c.errf(childPath(rp, "equals"), "is required")
		} else {
			rule.Equals = *rr.Equals
		}
		if rr.Urgent != "" {
			rule.Urgent = c.boolean(childPath(rp, "urgent"), rr.Urgent)
		}
		rule.To = c.destinationRefs(childPath(rp, "to"), rr.To)
		if len(rr.To) == 0 && !rule.Urgent {
			c.errf(childPath(rp, "to"), "is required (or urgent: true)")
		}
		// Not against the default form a script that failed to load
		// falls back to: its error is the one to read.
		if rr.Equals != nil && (cl.ScriptRef == "" || len(cl.script.Fields) > 0) {
			c.ruleMatchable(rp, rule, cl.Script())
		}
		cl.relayRules = append(cl.relayRules, rule)
	}
	if r.Template != "" {
		for _, probe := range templateProbes {
			if _, err := relay.Render(r.Template, probe); err != nil {
				c.errf(childPath(p, "template"), "%v (with a sample %s message)", err, probe.Kind)
				break
			}
		}
		cl.RelayTemplate = r.Template
	}
	if r.MissedCalls != "" {
		cl.RelayMissedCalls = c.boolean(childPath(p, "missed_calls"), r.MissedCalls)
	}
	if r.Voicemails != "" {
		cl.RelayVoicemails = c.boolean(childPath(p, "voicemails"), r.Voicemails)
	}
}

// messageFields are the fields a relay rule may test besides a script's
// answers: every message's, then the missed-call and voicemail notices'.
var messageFields = []string{"caller", "operator", "kind", "client_id", "urgent", "callback", "wait", "message", "recording"}

// ruleMatchable warns of a relay rule that can never match: a field
// neither the client's script nor any message has (a typo: adressee), or
// a value a choice or yes/no answer cannot take (urgnet). Such a rule
// loads, and its messages would silently go only to the client's other
// destinations.
func (c *checker) ruleMatchable(rp string, rule relay.Rule, s intake.Script) {
	if rule.Field == "" {
		return
	}
	var field *intake.Field
	for i := range s.Fields {
		if s.Fields[i].ID == rule.Field {
			field = &s.Fields[i]
		}
	}
	if field == nil {
		switch kinds := []string{relay.KindIntake, relay.KindMissedCall, relay.KindVoicemail}; {
		case rule.Field == "kind" && !slices.Contains(kinds, rule.Equals):
			c.warnf(childPath(rp, "equals"), "%q is no kind of message (%s): the rule never matches", rule.Equals, strings.Join(kinds, ", "))
		case rule.Field == "urgent" && !strings.EqualFold(strings.TrimSpace(rule.Equals), "true") && !strings.EqualFold(strings.TrimSpace(rule.Equals), "false"):
			c.warnf(childPath(rp, "equals"), "%q: this client's script has no question urgent, so urgent is the message's urgency, true or false: the rule never matches", rule.Equals)
		}
		if !slices.Contains(messageFields, rule.Field) {
			ids := make([]string, 0, len(s.Fields))
			for _, f := range s.Fields {
				ids = append(ids, f.ID)
			}
			c.warnf(childPath(rp, "field"), "%q is no question of this client's script (%s) and no field of a message (%s): the rule never matches",
				rule.Field, strings.Join(ids, ", "), strings.Join(messageFields, ", "))
		}
		return
	}
	var can []string
	switch field.Type {
	case intake.TypeChoice:
		for _, ch := range field.Choices {
			can = append(can, ch.Value, ch.Label)
		}
	case intake.TypeYesNo:
		can = []string{"yes", "no", "はい", "いいえ"}
		if rule.Field == "urgent" {
			can = append(can, "true", "false") // the message's urgency
		}
	default:
		return
	}
	if !slices.ContainsFunc(can, func(v string) bool { return relay.SameValue(rule.Equals, v) }) {
		c.warnf(childPath(rp, "equals"), "%q is no answer %s can take (%s): the rule never matches", rule.Equals, rule.Field, strings.Join(slices.Compact(can), ", "))
	}
}

// templateProbes are the messages a client's template is tried on: an
// intake, and the missed-call and voicemail notices, with the fields each
// has (a notice has no name, company or purpose).
var templateProbes = []relay.Message{{
	ID: "probe", ClientID: "probe", Kind: relay.KindIntake, Subject: "件名",
	Text:      "本文",
	Fields:    map[string]string{"caller": "0312345678", "name": "山田", "purpose": "見積もり"},
	CreatedAt: time.Date(2026, 1, 5, 14, 0, 0, 0, time.UTC),
	Link:      "https://example.jp/intakes/probe",
}, {
	ID: "probe-missed-call", ClientID: "probe", Kind: relay.KindMissedCall, Subject: "不在着信（03-1234-5678）",
	Fields:    map[string]string{"caller": "03-1234-5678", "callback": "03-1234-5678", "wait": "42秒", "message": "caller hung up after waiting 42s", "recording": ""},
	CreatedAt: time.Date(2026, 1, 5, 14, 0, 0, 0, time.UTC),
}, {
	ID: "probe-voicemail", ClientID: "probe", Kind: relay.KindVoicemail, Subject: "留守番電話（03-1234-5678）",
	Fields:    map[string]string{"caller": "03-1234-5678", "callback": "03-1234-5678", "wait": "0秒", "message": "voicemail left (after hours)", "recording": "probe-vm"},
	CreatedAt: time.Date(2026, 1, 5, 14, 0, 0, 0, time.UTC),
}}

// destinationRefs checks that every name is a relay destination.
func (c *checker) destinationRefs(path string, names []string) []string {
	out := make([]string, 0, len(names))
	seen := map[string]bool{}
	for i, n := range names {
		ep := indexPath(path, i)
		n = strings.TrimSpace(n)
		switch {
		case n == "":
			c.errf(ep, "is empty: write a destination name")
		case !c.destNames[n]:
			msg := strconv.Quote(n) + " is not a destination in relay.destinations"
			if s := c.closestDestination(n); s != "" {
				msg += " (did you mean " + strconv.Quote(s) + "?)"
			}
			c.errf(ep, "%s", msg)
		case seen[n]:
			c.errf(ep, "%q is listed twice", n)
		default:
			seen[n] = true
			out = append(out, n)
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

func (c *checker) closestDestination(n string) string {
	fields := make(map[string]*shape, len(c.destNames))
	for d := range c.destNames {
		fields[d] = nil
	}
	return suggest(n, fields)
}

// privateKey reads a LINE WORKS private key file (relative to the
// configuration's directory) and checks that it is an RSA key.
func (c *checker) privateKey(path, file string) string {
	full := file
	if !filepath.IsAbs(full) {
		full = filepath.Join(c.dir, full)
	}
	data, err := c.readSource(full)
	if err != nil {
		c.errf(path, "cannot read %q: %s", file, fileReason(err))
		return ""
	}
	if err := relay.ParseLineWorksKey(string(data)); err != nil {
		c.errf(path, "%q: %v (the Developer Console's private_*.key file)", file, err)
		return ""
	}
	return string(data)
}

// lineID is a LINE user (U), group (C) or room (R) id, as the Messaging
// API gives them.
var lineID = regexp.MustCompile(`^[UCR][0-9a-f]{32}$`)

// officeConnectorURL reports an Office 365 connector ("incoming webhook")
// URL of Teams: https://TENANT.webhook.office.com/webhookb2/... or the
// older https://outlook.office.com/webhook/... (also on office365.com)
func officeConnectorURL(s string) bool {
	u, err := url.Parse(s)
	if err != nil {
		return false
	}
	host := strings.ToLower(u.Hostname())
	return strings.HasSuffix(host, ".webhook.office.com") || host == "webhook.office.com" ||
		(host == "outlook.office.com" || host == "outlook.office365.com") && strings.HasPrefix(u.Path, "/webhook")
}
