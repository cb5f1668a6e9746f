package config

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/toritsugi/toritsugi/pkg/phone"
	"github.com/toritsugi/toritsugi/pkg/reception"
)

var clientID = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,63}$`)

func (c *checker) clients(raws []rawClient, queueDefaults Queue, intakeDays int) []Client {
	ids := map[string]string{}  // id -> path of its first use
	dids := map[string]string{} // E.164 -> path of its first use
	out := make([]Client, 0, len(raws))
	for i, r := range raws {
		p := indexPath("clients", i)
		q := queueDefaults
		cl := Client{
			ID: r.ID, Name: r.Name, ShortName: r.ShortName, Greeting: r.Greeting,
			GreetingText: r.GreetingText, AfterHoursSound: r.AfterHoursSound,
			queueDefaults: &q, IntakeRetentionDays: intakeDays,
		}
		if r.IntakeRetentionDays != nil {
			cl.IntakeRetentionDays = c.retentionDays(childPath(p, "intake_retention_days"), *r.IntakeRetentionDays, 0)
		}
		c.uniqueID(p, r.ID, clientID, "must be lower-case letters, digits and hyphens", ids)
		c.required(childPath(p, "name"), r.Name)
		if strings.TrimSpace(cl.ShortName) == "" {
			cl.ShortName = cl.Name
		}
		if c.required(childPath(p, "greeting"), r.Greeting) {
			c.media(childPath(p, "greeting"), r.Greeting)
		}
		if r.AfterHoursSound != "" {
			c.media(childPath(p, "after_hours_sound"), r.AfterHoursSound)
		}
		cl.DIDs = c.dids(childPath(p, "dids"), r.ID, r.DIDs, dids)
		cl.Hours = c.hours(childPath(p, "hours"), r.Hours)
		cl.Queue = c.queue(childPath(p, "queue"), r.Queue)
		c.reception(p, r, &cl)
		cl.Manual = r.Manual
		cl.ScriptRef, cl.script = c.script(childPath(p, "script"), r.Script)
		c.clientRelay(childPath(p, "relay"), r.Relay, &cl)
		cl.APIToken = c.clientSecret(p, "api_token", r.ID, r.APIToken)
		if t := cl.APIToken; t != "" && len(t) < 16 {
			c.errf(childPath(p, "api_token"), "is too short: use at least 16 random characters")
		}
		out = append(out, cl)
	}
	// A VIP transferred to one of the service's own numbers would come
	// back in as a new call, to this queue or round and round.
	for i, cl := range out {
		if owner, own := dids[cl.TransferTo]; own && cl.TransferTo != "" {
			c.errf(childPath(indexPath("clients", i), "transfer_to"), "%s is a number this service answers, of %s: VIPs would be transferred back in", phone.ParseCallerID(cl.TransferTo).Display(), owner)
		}
	}
	return out
}

// ClientEnv is the environment variable that overrides a client's secret
// key (api_token of client acme-jp: TORITSUGI_CLIENT_ACME_JP_API_TOKEN).
func ClientEnv(id, key string) string {
	return "TORITSUGI_CLIENT_" + strings.ToUpper(strings.ReplaceAll(id, "-", "_")) + "_" + strings.ToUpper(key)
}

// clientSecret is the written value of a client's secret key, replaced
// by its environment variable (ClientEnv) when that is set.
func (c *checker) clientSecret(p, key, id, written string) string {
	if id == "" {
		return written
	}
	return c.envOr(childPath(p, key), ClientEnv(id, key), written)
}

// apiTokens checks that every data API token is its own (a client's token
// the same as another's, or as the service's http.api_token, would read
// more than that client's data), and maps the clients' to their ids.
func (c *checker) apiTokens(service string, clients []Client) map[string]string {
	byToken := map[string]string{}
	seen := map[string]string{}
	if service != "" {
		seen[service] = "http.api_token"
	}
	for i, cl := range clients {
		if cl.APIToken == "" {
			continue
		}
		p := childPath(indexPath("clients", i), "api_token")
		if first, dup := seen[cl.APIToken]; dup {
			c.errf(p, "is the same as %s: give each client a token of its own", first)
			continue
		}
		seen[cl.APIToken] = p
		byToken[cl.APIToken] = cl.ID
	}
	return byToken
}

// dids normalises a client's numbers; seen holds the numbers of earlier clients.
func (c *checker) dids(path, owner string, raws []string, seen map[string]string) []string {
	if len(raws) == 0 {
		c.errf(path, "is required: list the numbers this client is called on")
		return nil
	}
	out := make([]string, 0, len(raws))
	for i, raw := range raws {
		p := indexPath(path, i)
		n, err := phone.ParseNumber(raw)
		if err != nil {
			c.errf(p, "%q is not a phone number: %s", raw, numberReason(err))
			continue
		}
		if first, dup := seen[n]; dup {
			c.errf(p, "%q (%s) is already used by %s", raw, n, first)
			continue
		}
		seen[n] = fmt.Sprintf("client %q (%s)", owner, p)
		out = append(out, n)
	}
	return out
}

// numberReason is the human part of a phone.ParseNumber error.
func numberReason(err error) string {
	if ne, ok := errors.AsType[*phone.NumberError](err); ok {
		return ne.Reason
	}
	return err.Error()
}

// Defaults of the optional client keys.
const (
	DefaultRingbackMax     = 10 * time.Second
	DefaultTransferTimeout = 20 * time.Second
	DefaultVoicemailPrompt = "sound:vm-intro"
	DefaultVoicemailMax    = 2 * time.Minute
	// DefaultVoicemailMaxSilence: app_voicemail's sample maxsilence.
	DefaultVoicemailMaxSilence = 10 * time.Second
	OverflowHangup             = "hangup"
	OverflowVoicemail          = "voicemail"
	OverflowCallback           = "callback"
	DefaultCallbackPrompt      = "sound:toritsugi/callback-offer"
	DefaultCallbackThanks      = "sound:toritsugi/callback-thanks"
	// DefaultCallbackGoodbye: an Asterisk core sound ("Goodbye").
	DefaultCallbackGoodbye        = "sound:vm-goodbye"
	DefaultWhisperSound           = "sound:beep"
	DefaultOverflowSound          = "sound:vm-nobodyavail"
	DefaultRecordingRetentionDays = 90
)

// reception converts the keys about answering, recording and callers.
func (c *checker) reception(p string, r rawClient, cl *Client) {
	cl.AnswerMode = reception.AnswerGreeting
	if r.AnswerMode != nil {
		cl.AnswerMode = c.oneOf(childPath(p, "answer_mode"), *r.AnswerMode, reception.AnswerGreeting, reception.AnswerRingback)
	}
	cl.RingbackMax = DefaultRingbackMax
	if r.RingbackMax != nil {
		cl.RingbackMax = c.duration(childPath(p, "ringback_max"), *r.RingbackMax, false)
	}
	if r.TransferTo != nil && strings.TrimSpace(*r.TransferTo) != "" {
		n, err := phone.ParseNumber(*r.TransferTo)
		if err != nil {
			c.errf(childPath(p, "transfer_to"), "%q is not a phone number: %s", *r.TransferTo, numberReason(err))
		}
		cl.TransferTo = n
	}
	cl.TransferCallerID = TransferCallerDID
	if r.TransferCallerID != nil {
		switch v := strings.TrimSpace(*r.TransferCallerID); v {
		case TransferCallerDID, TransferCallerCaller:
			cl.TransferCallerID = v
		default:
			n, err := phone.ParseNumber(v)
			if err != nil {
				c.errf(childPath(p, "transfer_caller_id"), "%q is not did, caller or a phone number: %s", v, numberReason(err))
			}
			cl.TransferCallerID = n
		}
	}
	cl.Overflow = OverflowHangup
	if r.Overflow != nil {
		cl.Overflow = c.oneOf(childPath(p, "overflow"), *r.Overflow, OverflowHangup, OverflowVoicemail, OverflowCallback)
	}
	cl.CallbackPrompt = c.optionalMedia(childPath(p, "callback_prompt"), r.CallbackPrompt, DefaultCallbackPrompt)
	cl.CallbackThanks = c.optionalMedia(childPath(p, "callback_thanks"), r.CallbackThanks, DefaultCallbackThanks)
	cl.CallbackEnterPrompt = c.optionalMedia(childPath(p, "callback_enter_prompt"), r.CallbackEnterPrompt, "")
	cl.CallbackAfterNumber = c.optionalMedia(childPath(p, "callback_after_number"), r.CallbackAfterNumber, "")
	cl.CallbackGoodbye = c.optionalMedia(childPath(p, "callback_goodbye"), r.CallbackGoodbye, DefaultCallbackGoodbye)
	cl.VoicemailPrompt = c.optionalMedia(childPath(p, "voicemail_prompt"), r.VoicemailPrompt, DefaultVoicemailPrompt)
	cl.VoicemailMax = DefaultVoicemailMax
	if r.VoicemailMax != nil {
		cl.VoicemailMax = c.duration(childPath(p, "voicemail_max"), *r.VoicemailMax, false)
	}
	cl.VoicemailMaxSilence = DefaultVoicemailMaxSilence
	if r.VoicemailMaxSilence != nil {
		path := childPath(p, "voicemail_max_silence")
		cl.VoicemailMaxSilence = c.duration(path, *r.VoicemailMaxSilence, true)
		if d := cl.VoicemailMaxSilence; d > 0 && (d < time.Second || d%time.Second != 0) {
			// ARI takes whole seconds (maxSilenceSeconds).
			c.errf(path, "%q: give whole seconds, 1s or more (0 turns it off)", *r.VoicemailMaxSilence)
		}
	}
	if r.AfterHoursVoicemail != nil {
		cl.AfterHoursVoicemail = c.boolean(childPath(p, "after_hours_voicemail"), *r.AfterHoursVoicemail)
	}
	cl.TransferTimeout = DefaultTransferTimeout
	if r.TransferTimeout != nil {
		cl.TransferTimeout = c.duration(childPath(p, "transfer_timeout"), *r.TransferTimeout, false)
	}
	cl.TransferWhisper = c.optionalMedia(childPath(p, "transfer_whisper"), r.TransferWhisper, DefaultWhisperSound)
	cl.TransferConfirm = c.optionalMedia(childPath(p, "transfer_confirm"), r.TransferConfirm, "")
	cl.WhisperSound = c.optionalMedia(childPath(p, "whisper_sound"), r.WhisperSound, DefaultWhisperSound)
	cl.OverflowSound = c.optionalMedia(childPath(p, "overflow_sound"), r.OverflowSound, DefaultOverflowSound)
	cl.BlockedSound = c.optionalMedia(childPath(p, "blocked_sound"), r.BlockedSound, "")
	cl.WithheldSound = c.optionalMedia(childPath(p, "withheld_sound"), r.WithheldSound, "")
	cl.RecordAnnouncement = c.optionalMedia(childPath(p, "record_announcement"), r.RecordAnnouncement, "")
	if r.Record != nil {
		cl.Record = c.boolean(childPath(p, "record"), *r.Record)
		if cl.Record && r.RecordAnnouncement == nil {
			// In Japan callers are told a call is recorded (この通話は録音
			// されます); a client that does so itself writes "".
			c.warnf(childPath(p, "record"), "calls are recorded and callers are not told: set record_announcement (e.g. sound:toritsugi/recorded, 「この通話は品質向上のため録音させていただきます」), or record_announcement: \"\" if the greeting says so")
		}
	}
	cl.RecordingRetentionDays = DefaultRecordingRetentionDays
	if r.RecordingRetentionDays != nil {
		cl.RecordingRetentionDays = c.retentionDays(childPath(p, "recording_retention_days"), *r.RecordingRetentionDays, 1)
	}
	if r.BillAfterHours != nil {
		cl.BillAfterHours = c.boolean(childPath(p, "bill_after_hours"), *r.BillAfterHours)
	}
	if r.BlockWithheld != nil {
		cl.BlockWithheld = c.boolean(childPath(p, "block_withheld"), *r.BlockWithheld)
	}
	cl.Callers = c.callers(childPath(p, "callers"), r.Callers)
}

// optionalMedia is def when the key is absent, "" when written empty, and a
// checked media URI otherwise.
func (c *checker) optionalMedia(path string, raw *string, def string) string {
	if raw == nil {
		return def
	}
	if *raw != "" {
		c.media(path, *raw)
	}
	return *raw
}
