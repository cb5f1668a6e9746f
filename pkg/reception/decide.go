package reception

import (
	"errors"
	"fmt"
	"time"
)

// Answer modes of Rules.AnswerMode.
const (
	AnswerGreeting = "greeting" // answer at once and play the greeting (the default)
	AnswerRingback = "ringback" // the caller hears ringing until an operator answers
)

// Caller kinds of Call.CallerKind, from the trunk's caller identification.
const (
	CallerNumber      = "number"      // a number is presented
	CallerWithheld    = "withheld"    // 非通知: the caller withheld the number
	CallerUnavailable = "unavailable" // 通知不可能: the network cannot present it
	CallerPayphone    = "payphone"    // 公衆電話
	CallerInvalid     = "invalid"     // presented but malformed
)

// Rules are one client's reception rules.
type Rules struct {
	Hours   Hours
	Callers []CallerRule
	// BlockWithheld blocks withheld numbers (非通知拒否) with an announcement.
	// Unavailable, payphone and invalid callers are never blocked by it.
	BlockWithheld bool
	// AnswerMode is AnswerGreeting (default when empty) or AnswerRingback.
	AnswerMode string
	// BillAfterHours counts after-hours calls toward billing; by default
	// they are not billed.
	BillAfterHours bool
}

// Validate checks the hours, every caller rule and the answer mode, and
// returns all problems joined.
func (r Rules) Validate() error {
	var errs []error
	if err := r.Hours.Validate(); err != nil {
		errs = append(errs, err)
	}
	for i, c := range r.Callers {
		if err := c.Validate(); err != nil {
			errs = append(errs, fmt.Errorf("caller rule %d: %w", i, err))
		}
	}
	switch r.AnswerMode {
	case "", AnswerGreeting, AnswerRingback:
	default:
		errs = append(errs, fmt.Errorf("answer mode %q: want greeting or ringback: %w", r.AnswerMode, ErrInvalidRule))
	}
	return errors.Join(errs...)
}

// Call is what is known of an incoming call when it is decided.
type Call struct {
	// CallerE164 is the caller's number in E.164 ("+81312345678").
	CallerE164 string
	// CallerKind is one of the Caller* constants; empty means CallerNumber
	// when CallerE164 is set and CallerUnavailable otherwise.
	CallerKind string
	// At is when the call arrived.
	At time.Time
}

// Action is what to do with a call.
type Action uint8

// Actions of a Decision.
const (
	ActionAccept     Action = iota + 1 // ring/answer and queue for an operator
	ActionAfterHours                   // the client's after-hours message (and voicemail)
	ActionBlock                        // refuse: announcement or hang-up per BlockMode
)

// String returns "accept", "after-hours" or "block".
func (a Action) String() string {
	switch a {
	case ActionAccept:
		return "accept"
	case ActionAfterHours:
		return "after-hours"
	case ActionBlock:
		return "block"
	default:
		return fmt.Sprintf("Action(%d)", uint8(a))
	}
}

// Decision reasons that are not hours reasons.
const (
	ReasonBlockRule = "block-rule" // followed by ":" and the matching pattern
	ReasonWithheld  = "withheld"
	ReasonVIP       = "vip"   // followed by ":" and the matching pattern
	ReasonKnown     = "known" // followed by ":" and the matching pattern
	ReasonOpen      = "open"
)

// Decision is the outcome of Decide.
type Decision struct {
	Action Action
	// Reason: "block-rule:+8150*" or "withheld" for blocks; the hours reason
	// ("outside-hours", "public-holiday:元日", "closure:年末年始") after hours;
	// "vip:<match>", "known:<match>" or "open" when accepted.
	Reason string
	// VIP, Known and KnownName come from the caller's rule, also after
	// hours (Known: a known contact's rule, not a VIP's); Whisper is the
	// VIP rule's own transfer whisper, if it has one.
	VIP       bool
	Known     bool
	KnownName string
	Whisper   string
	// Billable tells whether the call counts toward the client's billing.
	Billable bool
	// HoursStatus is the business-hours status at the call, always filled.
	HoursStatus Status
	// BlockMode is set for blocks: BlockAnnounce or BlockHangup.
	BlockMode string
	// AnswerMode is the client's answer mode, defaulted: AnswerGreeting or AnswerRingback.
	AnswerMode string
	// Rule is the Match of the caller rule that applied, empty if none.
	Rule string
}

// Decide applies r to c; see the package documentation for the precedence.
// Rules are not validated here: patterns that cannot match and unknown
// actions are ignored, so Decide never fails.
func Decide(r Rules, c Call) Decision {
	d := Decision{HoursStatus: r.Hours.At(c.At), AnswerMode: r.AnswerMode}
	if d.AnswerMode != AnswerRingback {
		d.AnswerMode = AnswerGreeting
	}

	kind := c.CallerKind
	if kind == "" {
		kind = CallerUnavailable
		if c.CallerE164 != "" {
			kind = CallerNumber
		}
	}
	if kind == CallerWithheld && r.BlockWithheld {
		d.Action, d.Reason, d.BlockMode = ActionBlock, ReasonWithheld, BlockAnnounce
		return d
	}

	// A withheld or otherwise unpresented number is never matched, so the
	// operator never sees a name the caller chose to hide.
	var rule *CallerRule
	if kind == CallerNumber {
		rule = matchCaller(r.Callers, c.CallerE164)
	}
	if rule != nil {
		d.Rule = rule.Match
		switch rule.Action {
		case RuleBlock:
			d.Action, d.Reason, d.BlockMode = ActionBlock, ReasonBlockRule+":"+rule.Match, BlockAnnounce
			if rule.BlockMode == BlockHangup {
				d.BlockMode = BlockHangup
			}
			return d
		case RuleVIP:
			d.VIP, d.KnownName, d.Whisper = true, rule.Name, rule.Whisper
		case RuleKnown:
			d.Known, d.KnownName = true, rule.Name
		}
	}

	if !d.HoursStatus.Open {
		d.Action, d.Reason, d.Billable = ActionAfterHours, d.HoursStatus.Reason, r.BillAfterHours
		return d
	}
	d.Action, d.Billable, d.Reason = ActionAccept, true, ReasonOpen
	switch {
	case d.VIP:
		d.Reason = ReasonVIP + ":" + rule.Match
	case rule != nil:
		d.Reason = ReasonKnown + ":" + rule.Match
	}
	return d
}
