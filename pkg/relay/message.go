package relay

import (
	"context"
	"errors"
	"net/url"
	"strconv"
	"strings"
	"time"

	japan "github.com/toritsugi/toritsugi/pkg/internal/jst"
)

// Message kinds carried by the relay.
const (
	KindIntake     = "intake"
	KindMissedCall = "missed-call"
	KindVoicemail  = "voicemail"
)

// Destination types understood by the built-in channels.
const (
	TypeEmail     = "email"
	TypeSlack     = "slack"
	TypeChatwork  = "chatwork"
	TypeTeams     = "teams"
	TypeLineWorks = "lineworks"
	TypeLine      = "line"
	TypeWebhook   = "webhook"
)

// Message is one notification for a client company. It is generic: the
// intake forms fill Fields, Render turns them into Text.
type Message struct {
	// ID is unique per message; with a destination name it forms the
	// idempotency key "<ID>/<destination>".
	ID       string `json:"id"`
	ClientID string `json:"client_id"`
	// Kind is KindIntake, KindMissedCall or KindVoicemail.
	Kind    string `json:"kind"`
	Subject string `json:"subject"`
	// Text is the rendered body (see Render).
	Text string `json:"text"`
	// Fields are the answers as people read them, by field id (company,
	// name, callback as 03-1234-5678, a choice by its label, a date as
	// 1月5日(月) 14:00, multi-line answers with their line breaks), and
	// caller and operator: what templates read.
	Fields map[string]string `json:"fields,omitempty"`
	// Values are an intake's answers as stored, by field id: numbers in
	// E.164 (+81312345678, ";ext=123" for an extension), times in RFC 3339
	// Japan time, choices by their value, yes/no. Webhooks receive them
	// for machines to read.
	Values map[string]string `json:"values,omitempty"`
	// Lines are what the message says, in order, as people read them:
	// an intake's answers under their form labels (会社名, 用件詳細,
	// 折返し希望日時, ...), a notice's wait and state. The default
	// template lists them all.
	Lines     []Line    `json:"lines,omitempty"`
	Urgent    bool      `json:"urgent"`
	CreatedAt time.Time `json:"created_at"`
	// IntakeID, Version and UpdatedAt identify a message taken (an
	// intake) and which version of it this is (2 and later: corrections,
	// each with all the answers), so that a receiver keeps the latest
	// version of each; CallID is the call it was taken on. Empty for a
	// missed call or a voicemail (CallID aside).
	IntakeID  string    `json:"intake_id,omitempty"`
	Version   int       `json:"version,omitempty"`
	UpdatedAt time.Time `json:"updated_at,omitzero"`
	CallID    string    `json:"call_id,omitempty"`
	// Link points to the intake in the console, if any.
	Link string `json:"link,omitempty"`
	// Recording names a voicemail's recording (Asterisk's stored
	// recording, WAV), which mail carries attached (ChannelOptions.Recordings).
	Recording string `json:"recording,omitempty"`
}

// InJapan is m with its times in Japan time (+09:00, as the values'
// times), whatever the machine's zone.
func (m Message) InJapan() Message {
	m.CreatedAt, m.UpdatedAt = japan.In(m.CreatedAt), japan.In(m.UpdatedAt)
	return m
}

// Line is one labelled line of a message.
type Line struct {
	Label string `json:"label"`
	Value string `json:"value"`
}

// Destination is one configured place a message can be delivered to. Which
// fields matter depends on Type; secrets stay in the configuration and are
// never written to the outbox (entries only record the destination name).
type Destination struct {
	// Name is the key used by rules and by the outbox; it must not
	// contain '/'.
	Name string
	// Type is one of the Type* constants.
	Type string
	// URL is the webhook URL (slack, teams, webhook) or an API base URL
	// override (chatwork, lineworks; empty means the public service).
	URL string
	// To is the recipient: comma-separated mail addresses (email) or the
	// LINE WORKS user id when RoomID is empty (lineworks).
	To string
	// Token is the Chatwork API token, or a LINE WORKS access token
	// obtained elsewhere (it expires within 24 hours: prefer ClientID...).
	Token string
	// ClientID, ClientSecret, ServiceAccount and PrivateKey (PEM) let the
	// LINE WORKS sender get its access tokens itself, by the service
	// account (JWT) flow, and get a new one before it expires or when the
	// API refuses it; Scope is their OAuth scope ("": "bot"). When
	// ClientID is set, Token is not used.
	ClientID, ClientSecret, ServiceAccount, PrivateKey, Scope string
	// Secret signs webhook bodies (webhook).
	Secret string
	// RoomID is the Chatwork room id or the LINE WORKS channel id.
	RoomID string
	// BotID is the LINE WORKS bot id.
	BotID string
	// Addr is the SMTP server "host:port" (email).
	Addr string
	// From is the sender address (email).
	From string
	// Username and Password are used for SMTP AUTH (PLAIN or LOGIN) when
	// Username is set (email).
	Username string
	Password string
	// Insecure allows an SMTP session without STARTTLS when the server
	// does not offer it. Credentials are then only sent to localhost.
	Insecure bool
	// Timeout bounds one delivery attempt; zero means DefaultSendTimeout.
	Timeout time.Duration
}

// Server is what d sends to, for the worker's bound on deliveries at once
// to one server: the SMTP server's host and port (email), the URL's host
// (webhooks, or an API base set in URL), or the public service's host;
// the destination's own name when none can be told.
func (d Destination) Server() string {
	if d.Type == TypeEmail {
		return "smtp " + strings.ToLower(d.Addr)
	}
	base := d.URL
	if base == "" {
		switch d.Type {
		case TypeChatwork:
			base = ChatworkBaseURL
		case TypeLine:
			base = LineBaseURL
		case TypeLineWorks:
			base = LineWorksBaseURL
		}
	}
	if u, err := url.Parse(base); err == nil && u.Host != "" {
		return strings.ToLower(u.Host)
	}
	return "destination " + d.Name
}

// DefaultSendTimeout bounds one delivery attempt when Destination.Timeout
// is zero.
const DefaultSendTimeout = 30 * time.Second

// Errors returned (wrapped) by the relay; test them with errors.Is.
var (
	// ErrPermanent marks a delivery error that retrying cannot fix (for
	// example HTTP 400/401/403/404); the entry is dead-lettered at once.
	ErrPermanent = errors.New("relay: permanent delivery error")
	// ErrPartlyDelivered: the message reached some of a destination's
	// recipients and the others were refused for good (a mail address
	// unknown to its server). The entry counts as delivered, with the
	// refusals as its last error, so that the others are not held back
	// and nobody gets it twice.
	ErrPartlyDelivered = errors.New("relay: delivered, but some recipients were refused")
	// ErrInvalid: a message, destination or id was refused.
	ErrInvalid = errors.New("relay: invalid argument")
	// ErrNotFound: no outbox entry with that id.
	ErrNotFound = errors.New("relay: entry not found")
	// ErrSuperseded: a dead letter of an intake whose later version (a
	// correction) is also queued for its destination: sent now, the
	// stale version would be the client's last word.
	ErrSuperseded = errors.New("relay: a later version of this message is queued for the same destination")
	// ErrUnknownDestination: the destination name is not configured.
	ErrUnknownDestination = errors.New("relay: destination not in the configuration (renamed or removed?)")
	// ErrNotTheClientsDestination: the destination name is now another
	// client's (WorkerOptions.DestinationUsers).
	ErrNotTheClientsDestination = errors.New("relay: the destination's name is another client's since the message was queued (a destination renamed?)")
	// ErrNoChannel: no channel is registered for the destination type.
	ErrNoChannel = errors.New("relay: no channel for destination type")
	// ErrCorrupt: the outbox's index disagrees with its entries (rebuilt
	// at the next OpenOutbox).
	ErrCorrupt = errors.New("relay: outbox index corrupt")
)

// IdempotencyKey is the key receivers use to drop duplicates:
// IntakeMessageID is the id of the message relaying version v of intake
// id: "<id>-v<v>". Corrections are later versions of one intake.
func IntakeMessageID(id string, v int) string { return id + "-v" + strconv.Itoa(v) }

// NoticeMessageID is the message id of call callID's notice of kind
// (KindMissedCall, KindVoicemail): one per call and kind.
func NoticeMessageID(callID, kind string) string { return callID + "-" + kind }

// NoticeMessageIDs are the ids of call callID's notices, of every kind:
// what is deleted with the call's record or its caller's data.
func NoticeMessageIDs(callID string) []string {
	return []string{NoticeMessageID(callID, KindMissedCall), NoticeMessageID(callID, KindVoicemail)}
}

// ParseNoticeMessageID splits a message id made by NoticeMessageID into
// the call id and the kind (ok false for any other id).
func ParseNoticeMessageID(messageID string) (callID, kind string, ok bool) {
	for _, kind := range []string{KindMissedCall, KindVoicemail} {
		if id, found := strings.CutSuffix(messageID, "-"+kind); found && id != "" {
			return id, kind, true
		}
	}
	return "", "", false
}

// ParseIntakeMessageID splits a message id made by IntakeMessageID into
// the intake id and the version (ok false for any other id).
func ParseIntakeMessageID(messageID string) (id string, v int, ok bool) {
	i := strings.LastIndex(messageID, "-v")
	if i <= 0 {
		return "", 0, false
	}
	v, err := strconv.Atoi(messageID[i+2:])
	if err != nil || v < 1 {
		return "", 0, false
	}
	return messageID[:i], v, true
}

// "<message id>/<destination name>". It is also the outbox entry id.
func IdempotencyKey(messageID, destination string) string {
	return messageID + "/" + destination
}

func timeout(d Destination) time.Duration {
	if d.Timeout > 0 {
		return d.Timeout
	}
	return DefaultSendTimeout
}

// RecordingFunc reads a stored recording's file, at most MaxAttachment
// bytes and one more; a recording that is not there is ErrNoRecording.
type RecordingFunc func(ctx context.Context, name string) ([]byte, error)

// ErrNoRecording: the recording a message names is not there (deleted by
// the retention, or never made).
var ErrNoRecording = errors.New("relay: no such recording")

// MaxAttachment bounds a recording attached to mail (10 MiB: about 11
// minutes of Asterisk's 8 kHz WAV, 14 MiB encoded; many mail servers
// refuse a message over 20 or 25 MB).
const MaxAttachment = 10 << 20
