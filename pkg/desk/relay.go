package desk

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/toritsugi/toritsugi/pkg/acd"
	"github.com/toritsugi/toritsugi/pkg/config"
	"github.com/toritsugi/toritsugi/pkg/console"
	"github.com/toritsugi/toritsugi/pkg/fallback"
	"github.com/toritsugi/toritsugi/pkg/intake"
	"github.com/toritsugi/toritsugi/pkg/phone"
	"github.com/toritsugi/toritsugi/pkg/relay"
	"github.com/toritsugi/toritsugi/pkg/store"
)

// ErrNoDestination: a message no destination would receive; the operator
// is told (the intake is stored, but nobody will get it).
var ErrNoDestination = console.ErrNoRelayDestination

// Submit implements console.Relayer: the intake (already stored) becomes
// one outbox entry per destination its client's rules pick. A correction
// (version > 1) is relayed again as a new message marked 訂正.
func (d *Desk) Submit(ctx context.Context, in store.Intake) error {
	// The message as the form it was taken with reads it.
	cl, ok := d.clientFor(in.ClientID, in.CallID)
	if !ok {
		return fmt.Errorf("desk: intake %s: unknown client %q", in.ID, in.ClientID)
	}
	// Clients read names, not codes: labels for choices, 03-1234-5678
	// for numbers (the stored intake keeps the normalised values). The
	// fields are those its caller was asked, as when it was saved.
	script := cl.Script().ForCaller(in.CallerClass)
	fields := map[string]string(script.Display(intake.Values(in.Values)))
	if fields == nil {
		fields = map[string]string{}
	}
	fields["caller"] = phone.ParseCallerID(in.CallerNumber).Display()
	fields["operator"] = in.OperatorID
	var lines []relay.Line
	if in.KnownName != "" {
		// The client's own name for the caller (their caller rule): a
		// script may not ask a known caller their name.
		fields["known_name"] = in.KnownName
		lines = append(lines, relay.Line{Label: knownNameLabel, Value: in.KnownName})
	}
	subject := cl.Name + " 宛のお電話"
	name := oneLine(fields["name"])
	if name == "" {
		name = oneLine(in.KnownName)
	}
	if name != "" {
		// One line: a script may make these multi-line answers.
		subject = strings.TrimSpace(oneLine(fields["company"])+" "+name) + " 様より " + cl.Name + " 宛のお電話"
	}
	if in.Version > 1 {
		subject = "【訂正】" + subject
	}
	for _, a := range script.Answers(intake.Values(in.Values)) {
		lines = append(lines, relay.Line{Label: a.Label, Value: a.Value})
	}
	if in.OperatorID != "" {
		lines = append(lines, relay.Line{Label: "受付", Value: in.OperatorID})
	}
	if in.Version > 1 && !in.UpdatedAt.IsZero() {
		lines = append(lines, relay.Line{Label: "訂正日時", Value: in.UpdatedAt.In(jst).Format("2006/01/02 15:04")})
	}
	// The message's time is when the call was taken (its first version
	// was saved): a correction made the next day must not say the call
	// came then.
	at := in.CreatedAt
	if at.IsZero() {
		at = in.UpdatedAt
	}
	m := relay.Message{
		ID: relay.IntakeMessageID(in.ID, in.Version), ClientID: in.ClientID, Kind: relay.KindIntake,
		Subject: subject, Fields: fields, Values: maps.Clone(in.Values), Lines: lines, Urgent: intake.Urgent(in.Values), CreatedAt: at,
		IntakeID: in.ID, Version: in.Version, UpdatedAt: in.UpdatedAt, CallID: in.CallID,
	}
	if d.BaseURL != "" {
		m.Link = d.BaseURL + "/console/intakes/" + in.ID
	}
	// Rules may name a choice by its value (urgency: urgent) or by the
	// label people read (urgency: 至急): route on both.
	raw := m
	raw.Fields = maps.Clone(fields)
	maps.Copy(raw.Fields, in.Values)
	// Urgent by its answers or by a rule (on a value or on a label): one
	// urgency for both routes and for what the message says.
	m.Urgent = relay.Urgency(raw, cl.RelayRules()) || relay.Urgency(m, cl.RelayRules())
	raw.Urgent = m.Urgent
	dests := relay.Route(raw, cl.RelayRules(), cl.RelayUrgent)
	// A correction also goes wherever an earlier version went (it was
	// urgent, or for another addressee, before the change): whoever got
	// the original is told it changed.
	for _, name := range d.earlierDestinations(in.ID, in.Version, in.ClientID) {
		if _, ok := d.Config().Destination(name); ok && !slices.Contains(dests, name) {
			dests = append(dests, name)
		}
	}
	return d.enqueue(cl, m, dests...)
}

// knownNameLabel labels the client's own name for a known caller (their
// caller rule's name) in a relayed message.
const knownNameLabel = "登録名"

// AdmitIntakes is the outbox's Admit (relay.OutboxOptions) for st: a
// message of an intake is queued only while the intake exists and its
// caller is not being erased, a call's notice only while its caller is
// neither erased nor being erased, checked in the queue's own
// transaction. A message saved before an erasure and queued after it
// (Submit runs once the intake is stored; a notice once the call's
// record is) is not sent.
func AdmitIntakes(st *store.Store) func(*bolt.Tx, relay.Message) error {
	return func(tx *bolt.Tx, m relay.Message) error {
		switch {
		case m.Kind == relay.KindIntake && m.IntakeID != "":
			return st.IntakeRelayable(tx, m.IntakeID)
		case m.CallID != "":
			return st.CallRelayable(tx, m.CallID)
		}
		return nil
	}
}

// oneLine joins the lines of s with spaces.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// earlierDestinations lists the destinations the versions of intake id
// before version were queued for, for client (a message id is the
// browser's request id: entries of another client's message deleted
// since under the same id are not this message's).
func (d *Desk) earlierDestinations(id string, version int, client string) []string {
	var out []string
	for v := 1; v < version; v++ {
		entries, err := d.Outbox.List(relay.Filter{MessageID: relay.IntakeMessageID(id, v)})
		if err != nil {
			d.Logger.Warn("reading where an earlier version was relayed failed", "intake", id, "version", v, "error", err)
			continue
		}
		for _, e := range entries {
			if e.Message.ClientID == client && !slices.Contains(out, e.Destination) {
				out = append(out, e.Destination)
			}
		}
	}
	return out
}

// enqueue renders m with the client's template and stores it for every
// destination the client's rules pick (plus extra ones).
func (d *Desk) enqueue(cl *config.Client, m relay.Message, extra ...string) error {
	// Urgent (【至急】, "urgent": true) when a rule says so, as well as
	// when its answers do.
	m.Urgent = relay.Urgency(m, cl.RelayRules())
	dests := relay.Route(m, cl.RelayRules(), cl.RelayUrgent)
	for _, x := range extra {
		if !slices.Contains(dests, x) {
			dests = append(dests, x)
		}
	}
	if len(dests) == 0 {
		return fmt.Errorf("desk: %s: %w (client %s: no relay.to and no rule matched)", m.ID, ErrNoDestination, cl.ID)
	}
	text, err := relay.Render(cl.RelayTemplate, m)
	if err != nil && cl.RelayTemplate != "" {
		// The configuration check tries the template on sample messages;
		// a real one can still make it fail (a field it slices is short
		// or missing). The message goes out in the standard form rather
		// than not at all.
		d.Logger.Warn("the client's relay template failed on this message: sent in the standard form; fix relay.template",
			"client", cl.ID, "message", m.ID, "error", err)
		text, err = relay.Render("", m)
	}
	if err != nil {
		return fmt.Errorf("desk: render %s: %w", m.ID, err)
	}
	m.Text = text
	if err := d.queue(m, dests); err != nil {
		if !errors.Is(err, relay.ErrInvalid) {
			// The outbox could not be written (a full disk, an I/O
			// error): the message is kept here and tried again.
			d.unqueued.add(m, dests)
		}
		return fmt.Errorf("desk: enqueue %s: %w", m.ID, err)
	}
	return nil
}

func (d *Desk) queue(m relay.Message, dests []string) error {
	write := d.Outbox.Enqueue
	if d.writeOutbox != nil {
		write = d.writeOutbox
	}
	_, err := write(m, dests)
	return err
}

// unqueued: the messages the outbox could not take, until RetryUnqueued
// queues them: by message id, an intake's by intake id (a correction
// replaces the version it corrects). In memory only: after a restart,
// RequeueUnrelayed and RequeueUnrelayedCalls find them in the store.
type unqueued struct {
	mu sync.Mutex
	m  map[string]unqueuedMessage
}

type unqueuedMessage struct {
	msg   relay.Message
	dests []string
	// intakeID and version name the intake version msg relays ("" for
	// a call's notice).
	intakeID string
	version  int
}

// unqueuedOf keeps m for another try; an intake's message is known by its
// id, "<intake id>-v<version>".
func unqueuedOf(m relay.Message, dests []string) (string, unqueuedMessage) {
	u := unqueuedMessage{msg: m, dests: dests}
	if id, v, ok := relay.ParseIntakeMessageID(m.ID); m.Kind == relay.KindIntake && ok {
		u.intakeID, u.version = id, v
		return id, u
	}
	return m.ID, u
}

func (u *unqueued) add(m relay.Message, dests []string) {
	key, um := unqueuedOf(m, dests)
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.m == nil {
		u.m = map[string]unqueuedMessage{}
	}
	if old, ok := u.m[key]; ok && old.version > um.version {
		return // a later version is waiting already
	}
	u.m[key] = um
}

// RetryUnqueued queues again the messages (intakes, missed calls,
// voicemails) whose queueing for relay failed while this process ran:
// the operator was told "not queued", and the client must still get the
// message once the outbox can be written again. An intake's message goes
// only while it is still the intake's current version (a correction
// queued since replaces it; a purged intake is not sent). Call it
// periodically. It returns how many it queued and how many still wait.
func (d *Desk) RetryUnqueued() (queued, waiting int) {
	d.unqueued.mu.Lock()
	pending := maps.Clone(d.unqueued.m)
	d.unqueued.mu.Unlock()
	done := map[string]unqueuedMessage{} // settled: queued, or not to be sent
	for key, u := range pending {
		if u.intakeID != "" {
			in, err := d.Store.Intake(u.intakeID)
			switch {
			case errors.Is(err, store.ErrNotFound):
				d.Logger.Info("a message not queued for relay is not sent: its intake was deleted", "message", u.msg.ID)
				done[key] = u
				continue
			case err != nil:
				d.Logger.Warn("reading the intake of a message not queued for relay failed", "message", u.msg.ID, "error", err)
				continue
			case in.Version != u.version:
				d.Logger.Info("a message not queued for relay is not sent: its intake was corrected since", "message", u.msg.ID, "current", in.Version)
				done[key] = u
				continue
			}
		} else if u.msg.CallID != "" {
			// A call's notice: not once its caller's data was erased.
			if rec, err := d.Store.Call(u.msg.CallID); err == nil && store.CallerErased(rec) {
				d.Logger.Info("a call's notice not queued for relay is not sent: its caller's data was erased", "message", u.msg.ID)
				done[key] = u
				continue
			}
		}
		if err := d.queue(u.msg, u.dests); err != nil {
			d.Logger.Warn("queueing a message for relay failed again", "message", u.msg.ID, "error", err)
			continue
		}
		d.Logger.Info("message queued for relay on a later try", "message", u.msg.ID, "destinations", u.dests)
		done[key] = u
		queued++
	}
	d.unqueued.mu.Lock()
	defer d.unqueued.mu.Unlock()
	for key, u := range done {
		if cur, ok := d.unqueued.m[key]; ok && cur.msg.ID == u.msg.ID {
			delete(d.unqueued.m, key) // not replaced meanwhile
		}
	}
	return queued, len(d.unqueued.m)
}

// Status implements console.Relayer: delivery state per destination of
// every version of the intake.
func (d *Desk) Status(intakeID string) []console.RelayStatus {
	var out []console.RelayStatus
	// Every version up to the latest: one may have gone nowhere (no
	// destination, its queueing failed, purged after 30 days) while a
	// later one was queued. Without the store, up to the first version
	// with no entries.
	last, client := 0, ""
	if d.Store != nil {
		if in, err := d.Store.Intake(intakeID); err == nil {
			last, client = in.Version, in.ClientID
		}
	}
	for v := 1; v < 100; v++ {
		entries, err := d.Outbox.List(relay.Filter{MessageID: relay.IntakeMessageID(intakeID, v)})
		if err != nil || (len(entries) == 0 && v >= last) {
			break
		}
		for _, e := range entries {
			if client != "" && e.Message.ClientID != client {
				continue // another client's message once stored under this id
			}
			out = append(out, console.RelayStatus{Version: v, Destination: e.Destination, State: string(e.State), Attempts: e.Attempts, LastError: e.LastError})
		}
	}
	return out
}

// Finished relays missed calls and voicemails of clients that want them.
func (d *Desk) Finished(rec store.CallRecord) {
	cl, m, ok := d.callNotice(rec)
	if !ok {
		return
	}
	if err := d.enqueue(cl, m); err != nil {
		d.Logger.Error("relaying a missed call or voicemail failed", "call", rec.ID, "error", err)
	}
}

// callNotice is the message that relays call record rec (a missed call
// or a voicemail) to its client, if the client wants it.
func (d *Desk) callNotice(rec store.CallRecord) (*config.Client, relay.Message, bool) {
	if store.CallerErased(rec) {
		return nil, relay.Message{}, false // its notice went with the caller's data
	}
	cl, ok := d.Config().Client(rec.ClientID)
	if !ok {
		return nil, relay.Message{}, false
	}
	var kind, subject string
	unavailable := rec.Result == store.ResultFailed && rec.Reason == fallback.Reason
	// Sent away at the client's max_wait (asked to call again, a callback
	// offer declined, or one requested and not stored): as missed as one
	// who hung up waiting. A stored callback request is the operators'.
	sentAway := rec.Result == store.ResultOverflow && rec.Reason != store.ReasonCallbackRequested &&
		!rec.VoicemailFailed && !rec.VoicemailSilent
	switch {
	case rec.Result == store.ResultAbandoned && rec.WaitMS > 0 && cl.RelayMissedCalls,
		unavailable && cl.RelayMissedCalls, // refused while toritsugi was down
		sentAway && cl.RelayMissedCalls:
		kind, subject = relay.KindMissedCall, "不在着信"
	case rec.Result == store.ResultVoicemail && cl.RelayVoicemails,
		// Asked for a message that Asterisk could not record (a full
		// disk): what they said is lost, and without this the client
		// would not know they called; a voicemail to a client that takes
		// them (its rules may route by kind), else a missed call.
		rec.VoicemailFailed && cl.RelayVoicemails,
		// A message with nothing said in it (Asterisk's silence
		// detection): told as such, with the recording (a word or two
		// may have been missed), like a lost one.
		rec.VoicemailSilent && cl.RelayVoicemails:
		kind, subject = relay.KindVoicemail, "留守番電話"
	case (rec.VoicemailFailed || rec.VoicemailSilent) && cl.RelayMissedCalls:
		kind, subject = relay.KindMissedCall, "不在着信"
	default:
		return nil, relay.Message{}, false
	}
	caller := phone.ParseCallerID(rec.CallerID).Display()
	callback := caller
	if rec.CallbackNumber != "" {
		callback = phone.ParseCallerID(rec.CallbackNumber).Display()
	}
	wait := time.Duration(rec.WaitMS) * time.Millisecond
	var lines []relay.Line
	if wait > 0 {
		lines = append(lines, relay.Line{Label: "お待ちいただいた時間", Value: jaDuration(wait)})
	}
	if rec.VoicemailFailed {
		lines = append(lines, relay.Line{Label: "状況", Value: "留守番電話にご用件を残そうとされましたが、録音できませんでした（システムの不調）。お客様への折り返しをご検討ください"})
	} else if rec.VoicemailSilent {
		lines = append(lines, relay.Line{Label: "状況", Value: "留守番電話の録音にお声はほとんど入っていませんでした（何もおっしゃらずに切られたか、つながったままでした）"})
		if rec.Recording != "" {
			lines = append(lines, relay.Line{Label: "録音", Value: voicemailAttached})
		}
	} else if kind == relay.KindVoicemail {
		lines = append(lines, relay.Line{Label: "状況", Value: "留守番電話にメッセージが残されました"})
		if rec.Recording != "" {
			// The recording's name means nothing to a client: mail
			// carries the recording itself (relay.Message.Recording).
			lines = append(lines, relay.Line{Label: "録音", Value: voicemailAttached})
		}
	} else if unavailable {
		lines = append(lines, relay.Line{Label: "状況", Value: "システムの停止中にお電話があり、おかけ直しいただくようご案内しました"})
	} else if rec.Reason == store.ReasonCallbackNotStored {
		lines = append(lines, relay.Line{Label: "状況", Value: "折り返しのご依頼を承りましたが、システムの不調で記録できませんでした。お客様への折り返しをご検討ください"})
		if rec.CallbackNumber != "" {
			// The number the caller asked to be called on (keyed, or a
			// withheld caller's): not the caller ID shown above.
			lines = append(lines, relay.Line{Label: "折り返し先", Value: callback})
		}
	} else if rec.Reason == "overflow: "+acd.ReasonQueueFull {
		lines = append(lines, relay.Line{Label: "状況", Value: "お待ちのお客様が多く、おかけ直しいただくようご案内しました"})
	} else if sentAway {
		lines = append(lines, relay.Line{Label: "状況", Value: "オペレーターにおつなぎできないまま、お待ちいただける時間の上限を過ぎ、おかけ直しいただくようご案内しました"})
	} else {
		lines = append(lines, relay.Line{Label: "状況", Value: "オペレーターにつながる前にお電話が切れました"})
	}
	return cl, relay.Message{
		ID: relay.NoticeMessageID(rec.ID, kind), ClientID: cl.ID, Kind: kind, Subject: subject + "（" + caller + "）", CreatedAt: rec.EndedAt, Lines: lines,
		CallID: rec.ID, Recording: rec.Recording,
		Fields: map[string]string{
			"caller": caller, "callback": callback, "wait": jaDuration(wait),
			"message": rec.Reason, "recording": rec.Recording,
		},
	}, true
}

// voicemailAttached is what a voicemail's notice says of its recording:
// that there is one (relay.RecordingLine; mail says there that it is
// attached, or why not).
const voicemailAttached = "あり"

// StrandedRelays counts, by destination name, the pending outbox entries
// whose destination the running configuration no longer has: a
// destination renamed or removed by a reload. They will not be delivered
// unless it comes back, and are dead-lettered after their retries (dead
// letters are listed by the relay API, not here: they would be reported
// at every start for ever).
func (d *Desk) StrandedRelays() (map[string]int, error) {
	cfg := d.Config()
	entries, err := d.Outbox.List(relay.Filter{State: relay.StatePending})
	if err != nil {
		return nil, err
	}
	out := map[string]int{}
	for _, e := range entries {
		if _, ok := cfg.Destination(e.Destination); !ok {
			out[e.Destination]++
		}
	}
	return out, nil
}

// RequeueUnrelayedCalls relays the missed calls and voicemails of calls
// started since that have no outbox entry: the process may have died
// between storing a call's record and queueing its notice (two bbolt
// commits), or the queueing failed. Call it at start-up before the relay
// worker runs, with a short window: a client who has just turned
// relay_missed_calls on would otherwise get notices of calls that ended
// before. It returns how many notices it queued.
func (d *Desk) RequeueUnrelayedCalls(since time.Time) (int, error) {
	recs, err := d.Store.ListCalls(store.CallFilter{From: since})
	if err != nil {
		return 0, err
	}
	n := 0
	var errs []error
	for _, rec := range recs {
		cl, m, ok := d.callNotice(rec)
		if !ok {
			continue
		}
		queued, err := d.queueIfMissing(m.ID, func() error { return d.enqueue(cl, m) })
		if err != nil {
			errs = append(errs, err)
		}
		if queued {
			d.Logger.Warn("a call's notice had not been queued for relay: queued now", "call", rec.ID, "kind", m.Kind)
			n++
		}
	}
	return n, errors.Join(errs...)
}

// queueIfMissing queues a message with queue unless the outbox holds an
// entry of messageID, and reports whether it queued it. A message no
// destination would receive is no error.
func (d *Desk) queueIfMissing(messageID string, queue func() error) (bool, error) {
	entries, err := d.Outbox.List(relay.Filter{MessageID: messageID})
	if err != nil || len(entries) > 0 {
		return false, err
	}
	if err := queue(); err != nil {
		if errors.Is(err, ErrNoDestination) {
			return false, nil
		}
		return false, err
	}
	return true, nil
}

// RequeueUnrelayed relays again every intake updated since that has no
// outbox entry: the process may have died between storing an intake and
// queueing it (two bbolt commits). Call it at start-up before the relay
// worker runs. It returns how many intakes it queued.
func (d *Desk) RequeueUnrelayed(ctx context.Context, since time.Time) (int, error) {
	ins, err := d.Store.IntakesUpdatedSince(since)
	if err != nil {
		return 0, err
	}
	n := 0
	var errs []error
	for _, in := range ins {
		queued, err := d.queueIfMissing(relay.IntakeMessageID(in.ID, in.Version), func() error { return d.Submit(ctx, in) })
		if err != nil {
			errs = append(errs, err)
		}
		if queued {
			d.Logger.Warn("intake had not been queued for relay: queued now", "intake", in.ID, "version", in.Version)
			n++
		}
	}
	return n, errors.Join(errs...)
}

// jaDuration is d to the second as people read it: 1分05秒, 12秒, 1時間02分.
func jaDuration(d time.Duration) string {
	s := int(d.Round(time.Second) / time.Second)
	switch {
	case s >= 3600:
		return fmt.Sprintf("%d時間%02d分", s/3600, s%3600/60)
	case s >= 60:
		return fmt.Sprintf("%d分%02d秒", s/60, s%60)
	}
	return fmt.Sprintf("%d秒", s)
}

// PurgeIntakes deletes the messages whose client's intake_retention_days
// have passed since their last change, at now (the top-level
// intake_retention_days for clients no longer configured; 0 keeps them),
// with the relay outbox's copies of every version of them, and the
// callback requests done that long ago (the caller's number). It returns
// how many messages and requests went. It then sweeps the outbox for
// copies whose message is gone (sweepStranded), and logs how many it
// deleted.
func (d *Desk) PurgeIntakes(now time.Time) (messages, callbacks int, err error) {
	cfg := d.Config()
	expired := func(clientID string, at time.Time) bool {
		n := intakeRetention(cfg, clientID)
		return n > 0 && at.Before(now.Add(-config.Days(n)))
	}
	any := cfg.IntakeRetentionDays > 0
	for _, cl := range cfg.Clients {
		any = any || cl.IntakeRetentionDays > 0
	}
	if !any {
		return 0, 0, nil // nothing to read the whole buckets for
	}
	messages, merr := d.purgeIntakes(func(in store.Intake) bool { return expired(in.ClientID, in.UpdatedAt) })
	callbacks, cerr := d.Store.PurgeCallbacks(func(c store.Callback) bool { return expired(c.ClientID, c.DoneAt) })
	var serr error
	if d.Outbox != nil {
		_, serr = d.sweepStranded(now, cfg, d.intakeCopies(cfg))
	}
	return messages, callbacks, errors.Join(merr, cerr, serr)
}

// intakeRetention is the intake_retention_days of client clientID in cfg:
// the top-level value for a client no longer configured; 0 keeps.
func intakeRetention(cfg *config.Config, clientID string) int {
	if cl, ok := cfg.Client(clientID); ok {
		return cl.IntakeRetentionDays
	}
	return cfg.IntakeRetentionDays
}

// strandedCopies says which relay copies a retention's sweep
// (sweepStranded) deletes: those of the messages made from a kind of
// record (a message taken, a call's record) that is no longer in the
// store, once older than their client's retention.
type strandedCopies struct {
	// what names them in the log: "messages", "call records".
	what string
	// source is the id of the record message id was made from, for a
	// copy of kind ("" for an entry set aside unreadable, whose kind
	// cannot be read); ok false: not a copy of such a record.
	source func(messageID, kind string) (id string, ok bool)
	// days is client clientID's retention of the records (0 keeps).
	days func(clientID string) int
	// gone reports, in tx, whether record id is no longer stored for
	// client clientID ("": any client): deleted, or another client's.
	gone func(tx *bolt.Tx, id, clientID string) bool
}

// sweepStranded deletes the relay outbox's copies (in any state) that
// rule says were made from a record no longer in the store, and that are
// older than their client's retention at now: copies a run of the
// retention that deleted the record first, then failed (a crash, a full
// disk), left where no later run finds them, holding the caller's
// number, name or words past the retention. A copy's age is from the
// latest of when it was queued, retried, and its message made and
// changed. It logs how many went.
//
// A record written a moment ago is safe twice over: the service commits
// a record before queueing its copies (the outbox's Admit checks it in
// the queueing transaction), and Outbox.Sweep asks about each copy again
// in the transaction that deletes it, where the record is seen; and a
// copy that young is within any retention. Only whether the record
// exists is asked, not whether it may be relayed: a caller being erased
// still has their records, and the erasure lists their copies to say
// where they were sent.
//
// The entries set aside unreadable (relay_unreadable) whose key names a
// message made from a record that is gone go too, once set aside longer
// ago than the shortest retention in force (cfg's clients', and the
// top-level one for clients removed): their client cannot be read.
func (d *Desk) sweepStranded(now time.Time, cfg *config.Config, rule strandedCopies) (int, error) {
	stranded := func(tx *bolt.Tx, e relay.Entry) bool {
		id, ok := rule.source(e.MessageID, e.Message.Kind)
		if !ok {
			return false
		}
		days := rule.days(e.Message.ClientID)
		if days <= 0 || !copyTime(e).Before(now.Add(-config.Days(days))) {
			return false
		}
		return rule.gone(tx, id, e.Message.ClientID)
	}
	shortest := rule.days("")
	for _, cl := range cfg.Clients {
		if n := rule.days(cl.ID); n > 0 && (shortest <= 0 || n < shortest) {
			shortest = n
		}
	}
	aside := func(tx *bolt.Tx, u relay.Unreadable) bool {
		id, ok := rule.source(u.MessageID, "")
		if !ok || shortest <= 0 || u.SetAsideAt.IsZero() || !u.SetAsideAt.Before(now.Add(-config.Days(shortest))) {
			return false
		}
		return rule.gone(tx, id, "")
	}
	n, err := d.Outbox.Sweep(stranded, aside)
	if err != nil {
		err = fmt.Errorf("deleting the relay copies of %s no longer stored: %w", rule.what, err)
	}
	if n > 0 {
		d.Logger.Info("relay copies of "+rule.what+" no longer stored deleted (past their retention)", "entries", n)
	}
	return n, err
}

// intakeCopies are the relay copies of messages taken (any version),
// kept as their client's intake_retention_days says (the top-level
// value for a client removed). A copy whose message id names an intake
// that is now another client's is stranded too (a message id is the
// browser's request id).
func (d *Desk) intakeCopies(cfg *config.Config) strandedCopies {
	return strandedCopies{
		what: "messages",
		source: func(messageID, kind string) (string, bool) {
			id, _, ok := relay.ParseIntakeMessageID(messageID)
			return id, ok && (kind == "" || kind == relay.KindIntake)
		},
		days: func(clientID string) int { return intakeRetention(cfg, clientID) },
		gone: func(tx *bolt.Tx, id, clientID string) bool {
			in, err := d.Store.IntakeIn(tx, id)
			if errors.Is(err, store.ErrNotFound) {
				return true
			}
			// Unread (damaged: check-db names it): kept.
			return err == nil && clientID != "" && in.ClientID != clientID
		},
	}
}

// noticeCopies are the relay copies of calls' notices (不在着信,
// 留守番電話), made from the calls' records and kept as long as they are
// (call_record_retention_days, every client's).
func (d *Desk) noticeCopies(cfg *config.Config) strandedCopies {
	return strandedCopies{
		what: "call records",
		source: func(messageID, kind string) (string, bool) {
			id, k, ok := relay.ParseNoticeMessageID(messageID)
			return id, ok && (kind == "" || kind == k)
		},
		days: func(string) int { return cfg.CallRecordRetentionDays },
		gone: func(tx *bolt.Tx, id, clientID string) bool {
			r, err := d.Store.CallIn(tx, id)
			if errors.Is(err, store.ErrNotFound) {
				return true
			}
			// Unread (damaged: check-db names it): kept.
			return err == nil && clientID != "" && r.ClientID != clientID
		},
	}
}

// copyTime is when relay copy e was last made or asked for: the latest
// of when it was queued, retried, and its message taken and changed.
func copyTime(e relay.Entry) time.Time {
	t := e.EnqueuedAt
	for _, at := range []time.Time{e.RetriedAt, e.Message.CreatedAt, e.Message.UpdatedAt} {
		if at.After(t) {
			t = at
		}
	}
	return t
}

// purgeIntakes deletes the intakes due says are, and the relay outbox's
// copies of every version of them, the copies first: an intake is the
// only way to its copies (by its message ids), so a failure (a full
// disk, a crash) between the two leaves the intake, found again by the
// next run, never copies holding the caller's words past the retention
// that no run would find. An intake corrected between the two is kept
// (its earlier versions' copies are gone). A copy queued between the
// two (a message sent again by hand) is deleted after the intake, as
// the caller erasure does.
func (d *Desk) purgeIntakes(due func(store.Intake) bool) (int, error) {
	found, err := d.Store.IntakesWhere(due)
	if err != nil || len(found) == 0 {
		return 0, err
	}
	versions := map[string]int{} // the intakes found due, their version then
	var copies []string
	for _, in := range found {
		versions[in.ID] = in.Version
		for v := 1; v <= in.Version; v++ {
			copies = append(copies, relay.IntakeMessageID(in.ID, v))
		}
	}
	if d.Outbox != nil {
		if _, err := d.forget(copies); err != nil {
			return 0, fmt.Errorf("deleting the relay copies of %d messages past their retention (the messages are kept until they are gone): %w", len(found), err)
		}
	}
	messages, err := d.Store.PurgeIntakes(func(in store.Intake) bool {
		v, ok := versions[in.ID]
		return ok && v == in.Version && due(in)
	})
	if d.Outbox == nil {
		return messages, err
	}
	var again []string
	for id, v := range versions {
		if _, gerr := d.Store.Intake(id); !errors.Is(gerr, store.ErrNotFound) {
			continue // kept, or unread: its copies were deleted above
		}
		for i := 1; i <= v; i++ {
			again = append(again, relay.IntakeMessageID(id, i))
		}
	}
	if len(again) > 0 {
		if _, ferr := d.forget(again); ferr != nil {
			err = errors.Join(err, fmt.Errorf("deleting the relay copies queued meanwhile: %w", ferr))
		}
	}
	return messages, err
}

// forget is Outbox.Forget (a test makes it fail).
func (d *Desk) forget(messageIDs []string) (int, error) {
	if d.forgetOutbox != nil {
		return d.forgetOutbox(messageIDs)
	}
	return d.Outbox.Forget(messageIDs)
}

// PurgeCallRecords deletes the call records of calls started more than
// call_record_retention_days ago (0: none), keeping the monthly counts;
// it returns how many went. A record naming a recording is kept while the
// recording is within its client's recording_retention_days and a week
// (the recording retention's sweep, failing a few days while Asterisk is
// down, deletes it through its record meanwhile); past that, the sweep
// missed it (a record stored after the sweep had passed its start), the
// record goes, and the orphan sweep deletes the recording no record names.
//
// The relay outbox's copies of a record's notices (不在着信, 留守番電話:
// the caller's number and name, delivered, pending, dead or discarded)
// go with it, first, in the transaction that deletes it: a failure keeps
// both, for the next run. It then sweeps the outbox for notice copies
// whose record is gone and that are older than the retention
// (sweepStranded): left by an earlier version, which purged the records
// alone, or by an erasure cut short.
func (d *Desk) PurgeCallRecords(now time.Time) (int, error) {
	cfg := d.Config()
	days := cfg.CallRecordRetentionDays
	if days <= 0 {
		// No purge, but the notices of earlier ones (the retention set
		// back to 0) still leave the change feed in their time.
		_, err := d.Store.ExpirePurgeNotices(now)
		return 0, err
	}
	keep := func(r store.CallRecord) bool {
		recDays := config.DefaultRecordingRetentionDays
		if cl, ok := cfg.Client(r.ClientID); ok {
			recDays = cl.RecordingRetentionDays
		}
		return now.Sub(r.StartedAt) < config.Days(recDays+recordingSweepGrace)
	}
	var first func(*bolt.Tx, store.CallRecord) error
	if d.Outbox != nil {
		first = d.forgetNotices
	}
	n, err := d.Store.PurgeCalls(now.Add(-config.Days(days)), keep, first)
	if err != nil {
		err = fmt.Errorf("deleting call records past their retention, with their notices' relay copies: %w", err)
	}
	if d.Outbox == nil {
		return n, err
	}
	_, serr := d.sweepStranded(now, cfg, d.noticeCopies(cfg))
	return n, errors.Join(err, serr)
}

// forgetNotices deletes, in tx (the store's, deleting record r), the
// relay outbox's copies of r's notices, of either kind.
func (d *Desk) forgetNotices(tx *bolt.Tx, r store.CallRecord) error {
	ids := relay.NoticeMessageIDs(r.ID)
	if d.forgetNoticesIn != nil {
		return d.forgetNoticesIn(tx, ids)
	}
	_, err := d.Outbox.ForgetIn(tx, ids)
	return err
}

// recordingSweepGrace is how many days past its recording's retention a
// record naming it is kept for the recording retention's sweep.
const recordingSweepGrace = 7
