package console

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/toritsugi/toritsugi/pkg/store"
)

// Operator is a person who may log in to the console.
type Operator struct {
	ID, Name string
	// PasswordHash is an argon2id PHC string (see password.Hash).
	PasswordHash string
	// Clients are the client ids the operator answers for ("*": every client).
	Clients []string
	// Supervisor grants the wallboard and every client's intakes.
	Supervisor bool
}

// HistoryItem is one earlier call from the same number.
type HistoryItem struct {
	At      time.Time `json:"at"`
	Result  string    `json:"result"`
	Summary string    `json:"summary"`
}

// ScreenPop is what an operator sees when a call is bridged to them.
type ScreenPop struct {
	CallID     string `json:"call_id"`
	OperatorID string `json:"operator_id"`
	ClientID   string `json:"client_id"`
	ClientName string `json:"client_name"`
	// GreetingText is the exact line the operator says on answering.
	GreetingText string `json:"greeting_text"`
	// Manual is the client's manual (対応マニュアル), plain text.
	Manual        string        `json:"manual"`
	CallerNumber  string        `json:"caller_number"`
	CallerDisplay string        `json:"caller_display"`
	KnownName     string        `json:"known_name"`
	WaitedMS      int64         `json:"waited_ms"`
	At            time.Time     `json:"at"`
	History       []HistoryItem `json:"history"`
	// Saved are the ids of the messages saved for this call (kept with
	// the pop: a withheld or empty caller number finds none by number).
	Saved []string `json:"saved,omitempty"`
	// CallerClass is what was known of the caller when the call was put
	// through (intake.CallerClasses: vip, known, withheld, repeat, new),
	// decided then by the desk: the form shows the fields with show_if
	// caller for it, and the call's message is checked and kept with it.
	CallerClass string `json:"caller_class,omitempty"`
}

// Field types of a FieldSpec.
const (
	FieldText      = "text"
	FieldMultiline = "multiline"
	FieldPhone     = "phone"
	FieldChoice    = "choice"
	FieldDateTime  = "datetime"
	FieldYesNo     = "yesno"
)

// Choice is one option of a choice field.
type Choice struct {
	Value string `json:"value"`
	Label string `json:"label"`
}

// ShowIf makes a field visible only while another field's value is one of
// Equals, or, with Caller instead, only for a call whose caller class
// (ScreenPop.CallerClass) is one of Caller.
type ShowIf struct {
	Field  string   `json:"field"`
	Equals []string `json:"equals"`
	Caller []string `json:"caller,omitempty"`
}

// FieldSpec is one field of the intake form.
type FieldSpec struct {
	ID       string `json:"id"`
	Label    string `json:"label"`
	Type     string `json:"type"`
	Required bool   `json:"required"`
	// Help is the script's hint for the operator: what to say or ask.
	Help    string   `json:"help,omitempty"`
	Choices []Choice `json:"choices,omitempty"`
	ShowIf  *ShowIf  `json:"show_if,omitempty"`
}

// FormSpec is a client's intake form.
type FormSpec struct {
	Fields []FieldSpec `json:"fields"`
	// Closing is the line the operator says before hanging up.
	Closing string `json:"closing,omitempty"`
}

// Forms gives each client's intake form and validates what was entered.
// pkg/intake is expected to implement it.
type Forms interface {
	// FormFor returns the client's form as call callID popped with it
	// (a reload that changes the form meanwhile does not change the one
	// the operator is filling in); callID "" or a call it does not know:
	// the client's form now. An unknown client gets an empty one.
	FormFor(clientID, callID string) FormSpec
	// Validate checks values against that form, for a caller of class
	// callerClass (the call's ScreenPop.CallerClass, or a saved
	// message's store.Intake.CallerClass: never what a page sends). It
	// returns the normalised values (hidden branches dropped, phone
	// numbers cleaned), an error message per field id (empty: valid) and
	// the read-back line.
	Validate(clientID, callID, callerClass string, values map[string]string) (normalised, errs map[string]string, readBack string)
}

// Operator states as shown on the console; OperatorControl reports them.
const (
	StateOffline   = "offline"
	StateAvailable = "available"
	StateRinging   = "ringing"
	StateOnCall    = "on_call"
	StateWrapUp    = "wrap_up"
	StatePaused    = "paused"
)

// OperatorControl changes operator states and reports the wallboard; the
// ACD implements it.
type OperatorControl interface {
	SetAvailable(opID string)
	Pause(opID, reason string)
	EndWrapUp(opID string)
	ExtendWrapUp(opID string, d time.Duration)
	// HoldWrapUp: the operator's console shows call callID, whose
	// message is not saved; ReleaseWrapUp: it is saved. The wrap-up
	// after the call goes on (up to the client's wrapup_hold) in between.
	// A hold for a call already released is ignored: it was decided
	// before the save.
	HoldWrapUp(opID, callID string)
	ReleaseWrapUp(opID, callID string)
	// Logout takes the operator out of routing (after the call and
	// wrap-up they are on, if any): they logged out of the console.
	Logout(opID string)
	Snapshot(ctx context.Context) (Wallboard, error)
}

// OperatorStatus is one operator on the wallboard.
type OperatorStatus struct {
	ID          string    `json:"id"`
	Name        string    `json:"name"`
	State       string    `json:"state"`
	Since       time.Time `json:"since"`
	PauseReason string    `json:"pause_reason,omitempty"`
	// Reachable: the operator's softphone is registered (never rung
	// otherwise); WrapUpUntil: when wrap-up ends, in wrap-up.
	Reachable   bool      `json:"reachable"`
	WrapUpUntil time.Time `json:"wrapup_until,omitzero"`
	// OtherCall: the softphone is on a call the operator placed (a
	// customer called back); it is not rung until that call ends.
	OtherCall bool `json:"other_call,omitempty"`
	// WrapUpHeld: the wrap-up went on past its time because the call's
	// message is not saved; it ends when it is, or at WrapUpUntil.
	WrapUpHeld bool `json:"wrapup_held,omitempty"`
	// PendingPause: the reason of a pause (or "logout") asked for on a
	// call, which applies after its wrap-up.
	PendingPause string `json:"pending_pause,omitempty"`
	// CallID and CallClient: the call ringing the operator's phone or on
	// the line, and the name of its client (the wallboard shows it). The
	// page still shows the last call's screen until the new call's pop,
	// which comes when the call is connected (after the whisper): it says
	// whose call it is over it, so that the operator does not answer in
	// the last client's name.
	CallID     string `json:"call_id,omitempty"`
	CallClient string `json:"call_client,omitempty"`
	// Now is the server's time when an operator's own state was read: the
	// page counts wrap-up down and time in a state up by it, not by the
	// PC's clock, which may be minutes off.
	Now time.Time `json:"now,omitzero"`
}

// Waiting is the queue of one client.
type Waiting struct {
	ClientID     string `json:"client_id"`
	ClientName   string `json:"client_name,omitempty"`
	Count        int    `json:"count"`
	OldestWaitMS int64  `json:"oldest_wait_ms"`
}

// Today sums up the day so far.
type Today struct {
	Answered     int     `json:"answered"`
	Abandoned    int     `json:"abandoned"`
	ServiceLevel float64 `json:"service_level"`
	// Offered: the calls the service level counts; with none it is shown
	// as none, not 0 %.
	Offered int `json:"offered"`
}

// Wallboard is the live picture shown to supervisors.
type Wallboard struct {
	Operators []OperatorStatus `json:"operators"`
	Waiting   []Waiting        `json:"waiting"`
	Today     Today            `json:"today"`
	// TodayUnavailable: today's figures could not be read (Today is
	// zero); the rest is current.
	TodayUnavailable bool `json:"today_unavailable,omitempty"`
	// ARIDown: toritsugi's link to Asterisk is down: new calls take the
	// dialplan's fallback, and what is shown stands still.
	ARIDown bool `json:"ari_down,omitempty"`
}

// RelayStatus is the delivery state of an intake on one destination.
type RelayStatus struct {
	// Version is the message's version this entry relays (1, then each
	// correction's).
	Version     int    `json:"version"`
	Destination string `json:"destination"`
	State       string `json:"state"`
	Attempts    int    `json:"attempts"`
	LastError   string `json:"last_error,omitempty"`
}

// Relayer delivers stored intakes to the client; the relay outbox
// implements it.
type Relayer interface {
	// Submit queues the intake's message; an error wrapping
	// ErrNoRelayDestination means no destination takes it (the operator
	// is told nothing will be sent).
	Submit(ctx context.Context, in store.Intake) error
	Status(intakeID string) []RelayStatus
}

// ErrNoRelayDestination: a message the client's relay settings send
// nowhere (no relay.to, and no rule picked a destination).
var ErrNoRelayDestination = errors.New("nothing to relay to")

// Deps are the console's collaborators.
type Deps struct {
	// Operators returns the current operator list (config reloads apply at
	// the next request).
	Operators func() []Operator
	Forms     Forms
	Control   OperatorControl
	Relay     Relayer
	Store     *store.Store
	Logger    *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// SecureCookies marks cookies Secure (set it behind HTTPS).
	SecureCookies bool
	// StatePoll is how often event streams re-read the operator's state;
	// zero means 2 s.
	StatePoll time.Duration
	// PauseReasons are the allowed pause reasons; nil means DefaultPauseReasons.
	PauseReasons []string
	// ClientName, when set, names a client by its id (callback lists).
	ClientName func(id string) string
}

// DefaultPauseReasons are offered when Deps.PauseReasons is nil.
var DefaultPauseReasons = []string{"break", "lunch", "training", "meeting", "other"}
