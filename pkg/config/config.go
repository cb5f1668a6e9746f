// Package config is toritsugi's YAML configuration: the schema, loading from
// bytes with defaults and environment overrides, validation whose errors name
// the file, line and field, and live reload.
package config

import (
	"log/slog"
	"slices"
	"time"

	"github.com/toritsugi/toritsugi/pkg/intake"
	"github.com/toritsugi/toritsugi/pkg/reception"
	"github.com/toritsugi/toritsugi/pkg/relay"
)

// Config is a loaded and validated configuration. Treat it as read-only: a
// reload builds a new one.
type Config struct {
	// Warnings are problems that did not stop the file from loading
	// (file:line: field: what), to be logged.
	Warnings        Errors
	ARI             ARI
	HTTP            HTTP
	DataDir         string
	LogLevel        string // debug, info, warn or error
	UnknownDIDSound string // media URI played for a number no client owns
	// AnswerSilence is played to a caller just answered before anything
	// else they hear (default sound:silence/1; empty: nothing). ARI's
	// answer does not wait for the audio path to be up, as dialplan
	// Answer() does (up to 500 ms): a greeting played at once loses its
	// first syllables on many carriers.
	AnswerSilence string
	// Trunk is the carrier endpoint outbound calls (VIP transfers) leave
	// through, "TECH/endpoint" (default PJSIP/trunk): a number N is dialled
	// as TECH/N@endpoint.
	Trunk string
	// SoundsDir is Asterisk's sounds directory as toritsugi sees it
	// (e.g. /var/lib/asterisk/sounds). When set, check-config and serve
	// check that every sound:NAME the clients use is a file Asterisk can
	// play (8 kHz mono .sln, .ulaw or .wav). Empty: not checked.
	SoundsDir string
	// FallbackLog is the file asterisk-conf's dialplan adds a line to for
	// every call it refuses while toritsugi is down (its fallback), as
	// toritsugi sees it; toritsugi records and relays those calls. Empty:
	// not read.
	FallbackLog string
	// IntakeRetentionDays is every client's intake_retention_days unless
	// it sets its own, and applies to the messages of clients no longer
	// configured; 0 keeps messages for ever.
	IntakeRetentionDays int
	// CallRecordRetentionDays: call records (and their entries in the
	// indexes and the change feed) are deleted that many days after the
	// call started; the monthly counts stay. 0 keeps them for ever.
	CallRecordRetentionDays int
	Queue                   Queue // defaults for every client
	Clients                 []Client
	Operators               []Operator
	// Destinations are the relay destinations (relay.destinations), with
	// secrets from the environment already applied.
	Destinations []relay.Destination

	// sources are the other files the configuration read (the clients'
	// scripts, LINE WORKS private keys), as read: a reload compares and
	// watches them with the file itself.
	sources []sourceFile

	clientByID   map[string]int
	destByName   map[string]int
	clientByDID  map[string]int
	operatorByID map[string]int
	// ClientAPITokens maps each client's own data API token
	// (Client.APIToken) to the client's id.
	ClientAPITokens map[string]string
}

// ARI is how toritsugi reaches Asterisk.
type ARI struct {
	URL            string // base URL of the ARI REST interface, e.g. http://127.0.0.1:8088/ari
	User           string
	Password       string
	App            string // Stasis application name
	RequestTimeout time.Duration
	PingInterval   time.Duration
}

// LogValue keeps the password out of logs.
func (a ARI) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("url", a.URL),
		slog.String("user", a.User),
		slog.String("app", a.App),
		slog.Duration("request_timeout", a.RequestTimeout),
		slog.Duration("ping_interval", a.PingInterval),
	)
}

// HTTP is the console and API listener.
type HTTP struct {
	Listen string // host:port
	// APIListen, when set (host:port), is where the data API (/api/v1/
	// but the console's, /healthz) is served instead of on Listen: the
	// API reads every client's data, makes backups and erases callers,
	// and need not be on the address operators reach from outside
	// (127.0.0.1:8081). Env TORITSUGI_HTTP_API_LISTEN.
	APIListen string
	// SecureCookies marks the console's session cookie Secure: set it when
	// operators reach toritsugi over HTTPS (a TLS-terminating proxy).
	SecureCookies bool
	// APIToken, when set, is required as "Authorization: Bearer <token>"
	// by the data API (/api/v1/calls, counts, callbacks, backup). Env
	// TORITSUGI_HTTP_API_TOKEN.
	APIToken string
}

// Strategy picks which available operator rings next.
type Strategy string

// Ring strategies.
const (
	StrategyLongestIdle Strategy = "longest-idle"
	StrategyRoundRobin  Strategy = "round-robin"
	StrategyRingAll     Strategy = "ring-all"
)

// Queue is how calls wait for and reach operators.
type Queue struct {
	Strategy    Strategy
	RingTimeout time.Duration // how long one operator rings before the next
	MaxWait     time.Duration // longest wait before overflow
	MaxCallers  int           // callers in line at most; a new one beyond overflows at once; 0 no limit
	Wrapup      time.Duration // after-call work before the operator is available again
	// WrapupHold is how much longer wrap-up goes on while the message of
	// the call, shown in the operator's console, is not saved; 0 never.
	WrapupHold     time.Duration
	MOHClass       string        // Asterisk music-on-hold class
	AutoPauseAfter int           // consecutive no-answers that pause an operator; 0 never
	EscalateAfter  time.Duration // tier t rings after (t-1)×EscalateAfter, or once no lower tier's operator is in; 0 all tiers at once
	AnnouncePeriod time.Duration // between position announcements; 0 none
}

// DefaultQueue is the queue used when the configuration says nothing.
func DefaultQueue() Queue {
	return Queue{
		Strategy:       StrategyLongestIdle,
		RingTimeout:    15 * time.Second,
		MaxWait:        5 * time.Minute,
		Wrapup:         30 * time.Second,
		WrapupHold:     2 * time.Minute,
		MOHClass:       "default",
		AutoPauseAfter: 3,
	}
}

// QueueOverride holds a client's queue settings; nil fields inherit.
type QueueOverride struct {
	Strategy       *Strategy
	RingTimeout    *time.Duration
	MaxWait        *time.Duration
	MaxCallers     *int
	Wrapup         *time.Duration
	WrapupHold     *time.Duration
	MOHClass       *string
	AutoPauseAfter *int
	EscalateAfter  *time.Duration
	AnnouncePeriod *time.Duration
}

// Apply returns q with the overridden fields replaced.
func (o QueueOverride) Apply(q Queue) Queue {
	if o.Strategy != nil {
		q.Strategy = *o.Strategy
	}
	if o.RingTimeout != nil {
		q.RingTimeout = *o.RingTimeout
	}
	if o.MaxWait != nil {
		q.MaxWait = *o.MaxWait
	}
	if o.MaxCallers != nil {
		q.MaxCallers = *o.MaxCallers
	}
	if o.Wrapup != nil {
		q.Wrapup = *o.Wrapup
	}
	if o.WrapupHold != nil {
		q.WrapupHold = *o.WrapupHold
	}
	if o.MOHClass != nil {
		q.MOHClass = *o.MOHClass
	}
	if o.AutoPauseAfter != nil {
		q.AutoPauseAfter = *o.AutoPauseAfter
	}
	if o.EscalateAfter != nil {
		q.EscalateAfter = *o.EscalateAfter
	}
	if o.AnnouncePeriod != nil {
		q.AnnouncePeriod = *o.AnnouncePeriod
	}
	return q
}

// Client is a company whose phones toritsugi answers.
type Client struct {
	ID string
	// APIToken, when set, is the client's own token for the data API:
	// it reads that client's calls, counts, report row, callback
	// requests and relay entries, and nothing else.
	APIToken        string
	Name            string   // full name used in the greeting
	ShortName       string   // shown on the operator's phone; defaults to Name
	DIDs            []string // E.164, e.g. "+81312345678"
	Greeting        string   // media URI played on answer
	GreetingText    string   // the line the operator reads
	AfterHoursSound string   // media URI played when closed; may be empty
	// Hours is when the client is open: AlwaysOpen (and no public holidays)
	// without an hours section; Location is never nil after Parse.
	Hours reception.Hours
	Queue QueueOverride

	// AnswerMode is reception.AnswerGreeting (answer and play the greeting at
	// once) or reception.AnswerRingback (the caller hears ringing until an
	// operator answers, or RingbackMax passes: then greeting and queue).
	AnswerMode  string
	RingbackMax time.Duration
	// Overflow is what happens at the queue's max wait: OverflowHangup
	// (overflow_sound, then hang up) or OverflowVoicemail (overflow_sound,
	// voicemail_prompt and a beep, then a message of up to VoicemailMax).
	Overflow string
	// OverflowCallback: CallbackPrompt, then the caller's number read back;
	// 1 confirms a callback request (stored) and CallbackThanks ends the
	// call; silence or another key hears the offer again once, then
	// CallbackGoodbye ends it. With CallbackEnterPrompt, 2 (and a caller
	// whose number cannot be called back) is asked to key a number, read
	// back in turn; without, 2 declines.
	CallbackPrompt, CallbackThanks       string
	CallbackEnterPrompt, CallbackGoodbye string
	// CallbackAfterNumber plays after the number read back (the Japanese
	// order: 「お電話番号は」 number 「でよろしければ1を…」); none by default.
	CallbackAfterNumber string
	VoicemailPrompt     string
	VoicemailMax        time.Duration
	// VoicemailMaxSilence ends a message after that much silence, and
	// lets Asterisk tell a message nobody spoke in (0: neither).
	VoicemailMaxSilence time.Duration
	// AfterHoursVoicemail records a message after the after-hours sound.
	AfterHoursVoicemail bool
	// TransferTo is the client's own number (E.164) VIP callers are
	// transferred to; "" means VIPs are only queued first.
	TransferTo string
	// TransferTimeout is how long the client's phone rings before the VIP
	// caller goes back to the operator queue, keeping their place.
	TransferTimeout time.Duration
	// TransferWhisper is played to the client before the VIP is bridged.
	TransferWhisper string
	// TransferCallerID is the number the transfer call presents to the
	// client: TransferCallerDID (the number the VIP dialled, one the
	// service owns: Japanese carriers pass only their subscriber's own
	// numbers), TransferCallerCaller (the VIP's number, where the carrier
	// allows it), or a number of the service's (E.164).
	TransferCallerID string
	// TransferConfirm, when set, is played to the client when the
	// transfer is answered, asking them to press 1; only then is the VIP
	// put through. Without the key within the confirm wait (10 s) the
	// caller goes to the operators: a mobile's voicemail, which answers
	// an unanswered or switched-off phone, never presses 1.
	TransferConfirm string
	// WhisperSound is played to the operator before bridging, so that they
	// know whom the call is for; "" for none.
	WhisperSound string
	// Record records bridged calls; RecordAnnouncement ("" for none) is
	// played to the caller before the bridge when recording.
	Record                 bool
	RecordAnnouncement     string
	RecordingRetentionDays int
	// IntakeRetentionDays: the client's messages (every version) are
	// deleted this many days after their last change; 0 keeps them.
	IntakeRetentionDays int
	OverflowSound       string // played at the queue's max wait, then hang up
	BlockedSound        string // played to blocked callers; "" hangs up silently
	// WithheldSound is played instead to a withheld caller refused by
	// BlockWithheld (the custom in Japan: ask them to call again with 186
	// before the number); "": BlockedSound.
	WithheldSound  string
	BlockWithheld  bool // refuse withheld numbers (非通知拒否)
	BillAfterHours bool // after-hours calls (and their voicemails) count as billable
	// Callers are the caller rules, their Match normalised to E.164
	// ("+81312345678") or an E.164 prefix ending in "*" ("+8150*").
	Callers []reception.CallerRule

	// Manual is free text shown to operators answering for the client
	// (対応マニュアル); may be empty.
	Manual string
	// ScriptRef is the script: value as written: a preset name (simple,
	// standard, guided) or a path; "standard" when absent. Script() has the
	// loaded script.
	ScriptRef string
	// RelayTo names the destinations that receive every relayed message
	// (relay.to); RelayRules turns it into the first rule.
	RelayTo []string
	// RelayUrgent names the destinations that also receive urgent messages.
	RelayUrgent []string
	// RelayTemplate is the relay.Render template; "" means relay.DefaultTemplate.
	RelayTemplate string
	// RelayMissedCalls and RelayVoicemails relay missed calls and voicemails
	// (both false unless written).
	RelayMissedCalls, RelayVoicemails bool

	relayRules    []relay.Rule  // relay.rules as written, without RelayTo
	script        intake.Script // loaded by Parse
	queueDefaults *Queue        // the configuration's queue section, set by Parse
}

// QueueSettings returns the client's queue: its overrides merged over the
// configuration's queue section (or DefaultQueue for a hand-built Client).
func (c *Client) QueueSettings() Queue {
	base := DefaultQueue()
	if c.queueDefaults != nil {
		base = *c.queueDefaults
	}
	return c.Queue.Apply(base)
}

// Operator is a person answering calls at a SIP endpoint.
type Operator struct {
	ID       string
	Name     string
	Endpoint string // Asterisk TECH/resource, e.g. PJSIP/op1001
	// Clients are the client ids served, without their tiers ("acme:2" is
	// listed as "acme"); "*" means every client. Skills has the tiers.
	Clients      []string
	PasswordHash string // for the web console (argon2id; `toritsugi hash-password`); empty = cannot log in
	Supervisor   bool   // may open the supervisor wallboard

	skills map[string]int // client id or "*" -> tier, set by Parse
}

// AllClients reports whether the operator serves every client.
func (o *Operator) AllClients() bool {
	return slices.Contains(o.Clients, "*")
}

// Serves reports whether the operator takes calls for the client.
func (o *Operator) Serves(clientID string) bool {
	return o.AllClients() || slices.Contains(o.Clients, clientID)
}

// SlogLevel is LogLevel as a slog.Level (info when unset).
func (c *Config) SlogLevel() slog.Level {
	switch c.LogLevel {
	case "debug":
		return slog.LevelDebug
	case "warn":
		return slog.LevelWarn
	case "error":
		return slog.LevelError
	default:
		return slog.LevelInfo
	}
}
