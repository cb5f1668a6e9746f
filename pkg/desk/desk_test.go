package desk_test

import (
	"context"
	"encoding/json"
	"errors"
	"maps"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/CyCoreSystems/ari/v6"
	"github.com/toritsugi/toritsugi/pkg/config"
	"github.com/toritsugi/toritsugi/pkg/desk"
	"github.com/toritsugi/toritsugi/pkg/fallback"
	"github.com/toritsugi/toritsugi/pkg/queue"
	"github.com/toritsugi/toritsugi/pkg/relay"
	"github.com/toritsugi/toritsugi/pkg/store"
	"github.com/toritsugi/toritsugi/pkg/store/storetest"
)

const cfgYAML = `
ari: {user: toritsugi, password: x}
data_dir: /nonexistent
relay:
  destinations:
    - {name: acme-hook, type: webhook, url: "http://127.0.0.1:1/hook", secret: s}
    - {name: acme-boss, type: webhook, url: "http://127.0.0.1:1/boss", secret: s}
clients:
  - id: acme
    name: 株式会社ACME
    dids: ["03-1234-5678"]
    greeting: sound:acme
    greeting_text: お電話ありがとうございます、株式会社ACMEでございます。
    script: standard
    relay: {to: [acme-hook], urgent: [acme-boss], missed_calls: true}
  - id: beta
    name: ベータ
    dids: ["03-2222-3333"]
    greeting: sound:beta
    relay: {rules: [{field: urgency, equals: normal, to: [acme-hook]}]}
  - id: gamma
    name: ガンマ
    dids: ["03-4444-5555"]
    greeting: sound:gamma
  - id: delta
    name: デルタ
    dids: ["03-6666-7777"]
    greeting: sound:delta
    relay: {to: [acme-hook], urgent: [acme-boss], rules: [{field: purpose, equals: クレーム, urgent: true}, {field: urgent, equals: はい, to: [acme-boss]}]}
operators:
  - {id: op1001, name: 佐藤, endpoint: PJSIP/op1001, clients: ["*"], supervisor: true}
`

func newDesk(t *testing.T) (*desk.Desk, *relay.Outbox) {
	t.Helper()
	return newDeskWith(t, cfgYAML)
}

// newDeskWith is newDesk with another configuration.
func newDeskWith(t *testing.T, yaml string) (*desk.Desk, *relay.Outbox) {
	t.Helper()
	cfg, err := config.Parse("test.yaml", []byte(yaml), nil)
	if err != nil {
		t.Fatal(err)
	}
	st := storetest.Open(t)
	ob, err := relay.OpenOutbox(st.Bolt(), relay.OutboxOptions{})
	if err != nil {
		t.Fatal(err)
	}
	q := queue.New(queue.Options{})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); q.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	q.SetOperators([]queue.Operator{{ID: "op1001", Endpoint: "PJSIP/op1001", Clients: map[string]int{"*": 1}}})
	return &desk.Desk{Config: func() *config.Config { return cfg }, Store: st, Outbox: ob, Queue: q, Logger: storetest.Logger(t)}, ob
}

// TestUrgentAnswerMakesTheMessageUrgent: a form's yesno urgent
// (お急ぎですか) answered yes sends the message to the urgent destinations
// too, as the detailed form's urgency 至急 does; no sends it only to the
// usual ones.
func TestUrgentAnswerMakesTheMessageUrgent(t *testing.T) {
	d, ob := newDesk(t)
	now := time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		id, urgent string
		want       int
	}{{"u1", "yes", 2}, {"u2", "no", 1}} {
		in := store.Intake{ID: c.id, Version: 1, ClientID: "acme", OperatorID: "op1001", CallerNumber: "0312345678",
			Values: map[string]string{"name": "山田", "purpose": "見積もり", "urgent": c.urgent}, CreatedAt: now, UpdatedAt: now}
		if err := d.Submit(context.Background(), in); err != nil {
			t.Fatal(err)
		}
		entries, err := ob.List(relay.Filter{MessageID: c.id + "-v1"})
		if err != nil || len(entries) != c.want {
			t.Fatalf("urgent %s: %d outbox entries (%v), want %d", c.urgent, len(entries), err, c.want)
		}
		if got := entries[0].Message.Urgent; got != (c.urgent == "yes") {
			t.Fatalf("urgent %s: message urgent = %v", c.urgent, got)
		}
	}
}

// TestRuleMakesTheMessageUrgent: a rule that says urgent sends the
// message to the urgent destinations and makes it urgent (【至急】 in the
// text, "urgent": true for webhooks), not only the former; a rule written
// on the answer はい still reads the answer.
func TestRuleMakesTheMessageUrgent(t *testing.T) {
	d, ob := newDesk(t)
	now := time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		id, purpose, urgent string
		want                []string
	}{
		{"r1", "クレーム", "no", []string{"acme-boss", "acme-hook"}},
		{"r2", "見積もり", "no", []string{"acme-hook"}},
		{"r3", "見積もり", "yes", []string{"acme-boss", "acme-hook"}},
	} {
		in := store.Intake{ID: c.id, Version: 1, ClientID: "delta", OperatorID: "op1001", CallerNumber: "0312345678",
			Values: map[string]string{"name": "山田", "purpose": c.purpose, "urgent": c.urgent}, CreatedAt: now, UpdatedAt: now}
		if err := d.Submit(context.Background(), in); err != nil {
			t.Fatal(err)
		}
		entries, err := ob.List(relay.Filter{MessageID: c.id + "-v1"})
		if err != nil {
			t.Fatal(err)
		}
		var dests []string
		for _, e := range entries {
			dests = append(dests, e.Destination)
			urgent := len(c.want) == 2
			if e.Message.Urgent != urgent || strings.HasPrefix(e.Message.Text, "【至急】") != urgent {
				t.Errorf("%s: urgent %v, text %.30q; want urgent %v", c.id, e.Message.Urgent, e.Message.Text, urgent)
			}
		}
		slices.Sort(dests)
		if !slices.Equal(dests, c.want) {
			t.Errorf("%s (%s, urgent %s): sent to %v, want %v", c.id, c.purpose, c.urgent, dests, c.want)
		}
	}
}

func TestSubmitRoutesAndReportsStatus(t *testing.T) {
	d, ob := newDesk(t)
	now := time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)
	in := store.Intake{ID: "i1", Version: 1, ClientID: "acme", OperatorID: "op1001", CallerNumber: "0312345678",
		Values: map[string]string{"name": "山田", "company": "山田商事", "purpose": "見積もり", "urgency": "urgent"}, CreatedAt: now, UpdatedAt: now}
	if err := d.Submit(context.Background(), in); err != nil {
		t.Fatal(err)
	}
	entries, err := ob.List(relay.Filter{MessageID: "i1-v1"})
	if err != nil || len(entries) != 2 {
		t.Fatalf("urgent intake: %d outbox entries (%v), want the normal and the urgent destination", len(entries), err)
	}
	if m := entries[0].Message; !strings.Contains(m.Text, "【至急】") || !strings.Contains(m.Text, "山田商事") || m.Fields["caller"] != "03-1234-5678" {
		t.Fatalf("message text %q fields %v", m.Text, m.Fields)
	}
	in.Version = 2
	if err := d.Submit(context.Background(), in); err != nil {
		t.Fatal(err)
	}
	st := d.Status("i1")
	if len(st) != 4 || st[0].State != "pending" {
		t.Fatalf("status %+v, want 4 pending entries (2 versions × 2 destinations)", st)
	}
	v2, _ := ob.List(relay.Filter{MessageID: "i1-v2"})
	if len(v2) == 0 || !strings.Contains(v2[0].Message.Subject, "【訂正】") {
		t.Fatalf("correction not marked: %+v", v2)
	}
}

// TestUnqueuedMessagesTriedAgain: while the outbox cannot be written (a
// full disk), a saved message and a missed call's notice are not queued:
// the operator is told, and each is tried again until the outbox takes
// it, once. They used to wait for a restart. A message corrected
// meanwhile goes only in its current version (the client must not get
// the original after the correction), and a deleted one not at all.
func TestUnqueuedMessagesTriedAgain(t *testing.T) {
	d, ob := newDesk(t)
	var full atomic.Bool
	desk.FailOutboxWrites(d, &full)
	full.Store(true)
	now := time.Now()
	save := func(id, purpose string) store.Intake {
		t.Helper()
		in, err := d.Store.PutIntake(store.Intake{ID: id, CallID: "call-" + id, ClientID: "acme", OperatorID: "op1001", CallerNumber: "0312345678",
			Values: map[string]string{"name": "山田", "company": "山田商事", "purpose": purpose, "urgency": "normal"}, UpdatedAt: now})
		if err != nil {
			t.Fatal(err)
		}
		return in
	}
	if err := d.Submit(context.Background(), save("i1", "見積もり")); err == nil {
		t.Fatal("Submit with the outbox full returned nil: the operator would not be told")
	}
	if err := d.Submit(context.Background(), save("gone", "見積もり")); err == nil {
		t.Fatal("Submit with the outbox full returned nil")
	}
	d.Finished(store.CallRecord{ID: "c1", ClientID: "acme", CallerID: "09012345678", Result: store.ResultAbandoned, WaitMS: 42000, EndedAt: now})
	if q, w := d.RetryUnqueued(); q != 0 || w != 3 {
		t.Fatalf("RetryUnqueued with the outbox still full = %d queued, %d waiting; want 0, 3", q, w)
	}
	full.Store(false)
	// i1 is corrected (queued at once), and "gone" deleted, before the retry.
	if err := d.Submit(context.Background(), save("i1", "見積もりの訂正")); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Store.PurgeIntakes(func(in store.Intake) bool { return in.ID == "gone" }); err != nil {
		t.Fatal(err)
	}
	if q, w := d.RetryUnqueued(); q != 1 || w != 0 {
		t.Fatalf("RetryUnqueued = %d queued, %d waiting; want 1 (the missed call), 0", q, w)
	}
	if q, w := d.RetryUnqueued(); q != 0 || w != 0 {
		t.Fatalf("RetryUnqueued again = %d queued, %d waiting; want 0, 0", q, w)
	}
	var ids []string
	all, _ := ob.List(relay.Filter{})
	for _, e := range all {
		ids = append(ids, e.MessageID+"→"+e.Destination)
	}
	slices.Sort(ids)
	if strings.Join(ids, ",") != "c1-missed-call→acme-hook,i1-v2→acme-hook" {
		t.Fatalf("outbox %v, want the missed call and the corrected message, once each", ids)
	}
}

// TestCorrectionGoesWhereTheOriginalWent: an urgent message went to the
// usual destination and the urgent one; its correction (no longer urgent)
// goes to both, so that whoever got the original is told it changed.
func TestCorrectionGoesWhereTheOriginalWent(t *testing.T) {
	d, ob := newDesk(t)
	now := time.Now()
	in := store.Intake{ID: "i7", Version: 1, ClientID: "acme", OperatorID: "op1001", CallerNumber: "0312345678",
		Values: map[string]string{"name": "山田", "company": "山田商事", "purpose": "見積もり", "urgency": "urgent"}, CreatedAt: now, UpdatedAt: now}
	if err := d.Submit(context.Background(), in); err != nil {
		t.Fatal(err)
	}
	in.Version, in.Values["urgency"] = 2, "normal"
	if err := d.Submit(context.Background(), in); err != nil {
		t.Fatal(err)
	}
	var got []string
	entries, _ := ob.List(relay.Filter{MessageID: "i7-v2"})
	for _, e := range entries {
		got = append(got, e.Destination)
	}
	slices.Sort(got)
	if strings.Join(got, ",") != "acme-boss,acme-hook" {
		t.Fatalf("the correction went to %v; want acme-hook and acme-boss, where the urgent original went", got)
	}
}

// TestRelayedTextListsEveryAnswer: the message a client reads lists every
// answer the operator took down, under the form's labels and in its
// order, as people read them (choices by label, はい/いいえ, dates), and
// who took the call; a field the script hides is left out.
func TestRelayedTextListsEveryAnswer(t *testing.T) {
	d, ob := newDesk(t)
	now := time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)
	in := store.Intake{ID: "i9", Version: 1, ClientID: "acme", OperatorID: "op1001", CallerNumber: "0312345678",
		Values: map[string]string{"company": "山田商事", "name": "山田", "addressee": "佐藤部長", "callback": "+819011112222",
			"purpose": "見積もり", "detail": "外壁工事の見積もり\n来週中に", "callback_needed": "yes",
			"callback_at": "2026-12-01T10:00", "urgency": "normal"},
		CreatedAt: now, UpdatedAt: now}
	if err := d.Submit(context.Background(), in); err != nil {
		t.Fatal(err)
	}
	entries, err := ob.List(relay.Filter{MessageID: "i9-v1"})
	if err != nil || len(entries) != 1 {
		t.Fatalf("%d entries (%v)", len(entries), err)
	}
	text := entries[0].Message.Text
	want := []string{"発信者: 03-1234-5678", "会社名: 山田商事", "お名前: 山田", "宛先（担当者）: 佐藤部長",
		"ご用件: 見積もり", "用件詳細: 外壁工事の見積もり\n来週中に", "折返し要否: はい", "折返し番号: 090-1111-2222",
		"折返し希望日時: 12月1日(火) 10:00", "緊急度: 通常", "受付: op1001"}
	at := 0
	for _, w := range want {
		i := strings.Index(text[at:], w)
		if i < 0 {
			t.Fatalf("relayed text lacks %q (or has it out of the form's order):\n%s", w, text)
		}
		at += i + len(w)
	}
	// Templates read the answers as people read them, line breaks kept;
	// webhooks also get them as stored, for machines.
	m := entries[0].Message
	if m.Fields["detail"] != "外壁工事の見積もり\n来週中に" || m.Fields["callback"] != "090-1111-2222" {
		t.Errorf("fields %q", m.Fields)
	}
	if m.Values["callback"] != "+819011112222" || m.Values["callback_at"] != "2026-12-01T10:00" || m.Values["urgency"] != "normal" {
		t.Errorf("values %q, want the stored answers", m.Values)
	}
	// Without a callback the number and time are not asked, and not
	// relayed.
	in.ID, in.Values["callback_needed"] = "i10", "no"
	if err := d.Submit(context.Background(), in); err != nil {
		t.Fatal(err)
	}
	if e, _ := ob.List(relay.Filter{MessageID: "i10-v1"}); len(e) != 1 || strings.Contains(e[0].Message.Text, "折返し希望日時") || strings.Contains(e[0].Message.Text, "折返し番号") {
		t.Fatalf("a hidden field relayed: %+v", e)
	}
}

func TestMissedCallRelayed(t *testing.T) {
	d, ob := newDesk(t)
	d.Finished(store.CallRecord{ID: "c1", ClientID: "acme", CallerID: "09012345678", Result: store.ResultAbandoned, WaitMS: 42000, Reason: "caller hung up after waiting 42s", EndedAt: time.Now()})
	d.Finished(store.CallRecord{ID: "c2", ClientID: "acme", Result: store.ResultAnswered})
	d.Finished(store.CallRecord{ID: "c3", ClientID: "acme", Result: store.ResultVoicemail}) // voicemails: not asked for
	all, _ := ob.List(relay.Filter{})
	if len(all) != 1 || all[0].MessageID != "c1-missed-call" || !strings.Contains(all[0].Message.Text, "090-1234-5678") {
		t.Fatalf("outbox %+v, want one missed-call message", all)
	}
	// The client reads Japanese, not the record's reason.
	text := all[0].Message.Text
	if all[0].Message.Fields["wait"] != "42秒" {
		t.Errorf("a template's wait field %q, want 42秒 as the text says", all[0].Message.Fields["wait"])
	}
	if !strings.Contains(text, "お待ちいただいた時間: 42秒") || !strings.Contains(text, "状況: オペレーターにつながる前にお電話が切れました") || strings.Contains(text, "caller hung up") {
		t.Fatalf("missed-call text:\n%s", text)
	}
}

// TestLostVoicemailRelayedAsAMissedCall: a caller asked for a message
// that Asterisk could not record (a full disk) was told of to nobody: the
// record's result is the overflow's, which no notice relays. It is
// relayed, saying the message was lost: as a voicemail to a client that
// takes voicemails, else as a missed call to one that takes those; not
// to one that takes neither.
func TestLostVoicemailRelayedAsAMissedCall(t *testing.T) {
	now := time.Now()
	lost := store.CallRecord{ID: "c1", ClientID: "acme", CallerID: "09012345678", Result: store.ResultOverflow,
		Reason: "overflow: max-wait", WaitMS: 120000, StartedAt: now.Add(-3 * time.Minute), EndedAt: now, VoicemailFailed: true}
	checkVoicemailNoticeRouting(t, lost, func(m relay.Message) bool {
		return strings.Contains(m.Text, "録音できませんでした") && strings.Contains(m.Text, "090-1234-5678")
	})
}

// checkVoicemailNoticeRouting: rec, a call asked for a message that is no
// voicemail, is relayed as a voicemail to a client that takes them (its
// rules may route by kind: a review found one lost so), else as a missed
// call to one that takes those, not to one that takes neither; ok says
// whether the notice says what it should.
func checkVoicemailNoticeRouting(t *testing.T, rec store.CallRecord, ok func(relay.Message) bool) {
	t.Helper()
	for _, tc := range []struct {
		name, relay, kind string
		want              int
	}{
		{"missed calls", "missed_calls: true}", "missed-call", 1},
		{"voicemails", "voicemails: true}", "voicemail", 1},
		{"both", "missed_calls: true, voicemails: true}", "voicemail", 1},
		{"neither", "missed_calls: false}", "", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, ob := newDeskWith(t, strings.Replace(cfgYAML, "missed_calls: true}", tc.relay, 1))
			d.Finished(rec)
			all, _ := ob.List(relay.Filter{})
			if len(all) != tc.want {
				t.Fatalf("outbox %+v, want %d", all, tc.want)
			}
			if tc.want == 1 && (all[0].MessageID != rec.ID+"-"+tc.kind || !ok(all[0].Message)) {
				t.Fatalf("notice %s (recording %q):\n%s", all[0].MessageID, all[0].Message.Recording, all[0].Message.Text)
			}
		})
	}
}

// TestOverflowRelayedAsAMissedCall: a caller sent away at the client's
// max_wait (asked to call again, or who declined the callback offer) was
// told of to nobody, even to a client taking missed calls: the record's
// result is overflow, which no notice relayed (a review). It is a missed
// call; so is a callback request the store could not keep (the client is
// asked to call back); a stored request is the operators' and is not.
func TestOverflowRelayedAsAMissedCall(t *testing.T) {
	now := time.Now()
	overflow := func(id, reason string) store.CallRecord {
		return store.CallRecord{ID: id, ClientID: "acme", CallerID: "09012345678", Result: store.ResultOverflow,
			Reason: reason, WaitMS: 180000, StartedAt: now.Add(-4 * time.Minute), EndedAt: now}
	}
	d, ob := newDesk(t) // acme takes missed calls
	d.Finished(overflow("c1", "overflow: max-wait"))
	notStored := overflow("c2", store.ReasonCallbackNotStored)
	notStored.CallerID, notStored.CallbackNumber = "anonymous", "+819011112222" // a withheld caller's keyed number
	d.Finished(notStored)
	d.Finished(overflow("c3", store.ReasonCallbackRequested))
	d.Finished(overflow("c5", "overflow: queue-full"))
	for id, want := range map[string]string{"c1": "上限を過ぎ", "c2": "折り返し先: 090-1111-2222", "c3": "", "c5": "お待ちのお客様が多く"} {
		e, _ := ob.List(relay.Filter{MessageID: id + "-missed-call"})
		switch {
		case want == "" && len(e) != 0:
			t.Errorf("%s: a stored callback request relayed as a missed call: %+v", id, e)
		case want != "" && (len(e) != 1 || !strings.Contains(e[0].Message.Text, want) || !strings.Contains(e[0].Message.Text, "3分")):
			t.Errorf("%s: outbox %+v, want a missed call saying %q", id, e, want)
		}
	}
	d, ob = newDeskWith(t, strings.Replace(cfgYAML, "missed_calls: true}", "missed_calls: false}", 1))
	d.Finished(overflow("c4", "overflow: max-wait"))
	if all, _ := ob.List(relay.Filter{}); len(all) != 0 {
		t.Errorf("a client not taking missed calls was told: %+v", all)
	}
}

// TestSilentVoicemailRelayed: a message with nothing said in it (Asterisk
// heard no talking) is no voicemail; the client is told of the call as
// such, with the recording: as a voicemail to a client that takes them,
// else as a missed call; not to one that takes neither.
func TestSilentVoicemailRelayed(t *testing.T) {
	now := time.Now()
	silent := store.CallRecord{ID: "c1", ClientID: "acme", CallerID: "09012345678", Result: store.ResultOverflow,
		Reason: "overflow: max-wait", WaitMS: 120000, StartedAt: now.Add(-3 * time.Minute), EndedAt: now,
		VoicemailSilent: true, Recording: "c1-vm"}
	checkVoicemailNoticeRouting(t, silent, func(m relay.Message) bool {
		return strings.Contains(m.Text, "お声はほとんど入っていませんでした") && m.Recording == "c1-vm" && !strings.Contains(m.Text, "メッセージが残されました")
	})
}

// TestTemplateFailingOnAMessageFallsBack: a client template that passed
// the configuration check but fails on a real message (it slices a field
// that is shorter here) does not keep the message from the client: it
// goes out in the standard form.
func TestTemplateFailingOnAMessageFallsBack(t *testing.T) {
	d, ob := newDesk(t)
	cfg := d.Config()
	for i := range cfg.Clients {
		if cfg.Clients[i].ID == "acme" {
			cfg.Clients[i].RelayTemplate = `{{slice (field "name") 0 12}}様`
		}
	}
	now := time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)
	in := store.Intake{ID: "t1", Version: 1, ClientID: "acme", OperatorID: "op1001", CallerNumber: "0312345678",
		Values: map[string]string{"name": "山田", "purpose": "見積もり", "urgency": "normal"}, CreatedAt: now, UpdatedAt: now}
	if err := d.Submit(context.Background(), in); err != nil {
		t.Fatalf("submit: %v", err)
	}
	e, _ := ob.List(relay.Filter{MessageID: "t1-v1"})
	if len(e) != 1 || !strings.Contains(e[0].Message.Text, "お名前: 山田") {
		t.Fatalf("outbox %+v, want the intake in the standard form", e)
	}
}

func TestSubmitRoutesOnValuesAndReportsNoDestination(t *testing.T) {
	d, ob := newDesk(t)
	now := time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)
	in := store.Intake{ID: "b1", Version: 1, ClientID: "beta", Values: map[string]string{"name": "山田", "urgency": "normal"}, CreatedAt: now, UpdatedAt: now}
	if err := d.Submit(context.Background(), in); err != nil {
		t.Fatalf("a rule on the stored value (urgency: normal) did not route: %v", err)
	}
	if e, _ := ob.List(relay.Filter{MessageID: "b1-v1"}); len(e) != 1 || e[0].Destination != "acme-hook" {
		t.Fatalf("outbox %+v", e)
	}
	in = store.Intake{ID: "g1", Version: 1, ClientID: "gamma", Values: map[string]string{"name": "山田"}, CreatedAt: now, UpdatedAt: now}
	if err := d.Submit(context.Background(), in); !errors.Is(err, desk.ErrNoDestination) {
		t.Fatalf("a client with no relay: %v, want ErrNoDestination", err)
	}
}

func TestRequeueUnrelayed(t *testing.T) {
	d, ob := newDesk(t)
	now := time.Now()
	// Stored but never queued (the process died between the two commits).
	_, err := d.Store.PutIntake(store.Intake{ID: "lost", ClientID: "acme", OperatorID: "op1001",
		Values: map[string]string{"name": "山田"}, CreatedAt: now, UpdatedAt: now})
	if err != nil {
		t.Fatal(err)
	}
	// Stored and queued.
	ok, err := d.Store.PutIntake(store.Intake{ID: "ok", ClientID: "acme", OperatorID: "op1001",
		Values: map[string]string{"name": "佐藤"}, CreatedAt: now, UpdatedAt: now})
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Submit(context.Background(), ok); err != nil {
		t.Fatal(err)
	}
	n, err := d.RequeueUnrelayed(context.Background(), now.Add(-time.Hour))
	if err != nil || n != 1 {
		t.Fatalf("RequeueUnrelayed = %d, %v; want 1", n, err)
	}
	if e, _ := ob.List(relay.Filter{MessageID: "lost-v1"}); len(e) == 0 {
		t.Fatal("the lost intake was not queued")
	}
	if e, _ := ob.List(relay.Filter{MessageID: "ok-v1"}); len(e) != 1 {
		t.Fatalf("the queued intake was queued again: %+v", e)
	}
	if n, err := d.RequeueUnrelayed(context.Background(), now.Add(-time.Hour)); err != nil || n != 0 {
		t.Fatalf("second run = %d, %v; want 0", n, err)
	}
}

// TestStrandedRelays: pending entries for a destination a reload renamed
// or removed are counted by name; entries for a configured one are not.
func TestStrandedRelays(t *testing.T) {
	d, ob := newDesk(t)
	for id, dests := range map[string][]string{"a": {"acme-hook", "old-mail"}, "b": {"old-mail"}, "c": {"gone"}} {
		if _, err := ob.Enqueue(relay.Message{ID: id, ClientID: "acme", Kind: relay.KindIntake, Subject: "s"}, dests); err != nil {
			t.Fatal(err)
		}
	}
	got, err := d.StrandedRelays()
	if err != nil || !maps.Equal(got, map[string]int{"old-mail": 2, "gone": 1}) {
		t.Fatalf("StrandedRelays = %v, %v", got, err)
	}
}

// discard is an inbox that drops what the queue tells a call.
type discard struct{}

func (discard) Push(ari.Event) {}

// TestPurgeIntakes: each client's messages go intake_retention_days after
// their last change; a client without its own takes the top-level days,
// as do clients no longer configured; 0 keeps them. Callback requests
// done that long ago go too; pending ones never.
// TestPurgeCallRecords: call_record_retention_days deletes the records of
// calls started longer ago, of every client (a removed one's too), the
// month's counts kept; 0 (the default) keeps them all.
func TestPurgeCallRecords(t *testing.T) {
	d, _ := newDesk(t)
	now := time.Date(2026, 11, 29, 3, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		id, client, recording string
		age                   time.Duration
	}{
		{"old", "acme", "", 63 * 24 * time.Hour}, {"old-removed", "gone", "", 100 * 24 * time.Hour}, {"recent", "acme", "", 61 * 24 * time.Hour},
		// Its recording within acme's 90 days, or just past them (the
		// recording sweep may be failing a few days): kept for it.
		{"recorded", "acme", "rec-recorded", 80 * 24 * time.Hour},
		{"recorded-late", "acme", "rec-late", 95 * 24 * time.Hour},
		// Its recording past them and a week, never deleted: the record
		// goes (the orphan sweep deletes the recording).
		{"recorded-missed", "acme", "rec-missed", 98 * 24 * time.Hour},
	} {
		at := now.Add(-c.age)
		if err := d.Store.PutCall(store.CallRecord{ID: c.id, ClientID: c.client, Result: store.ResultAnswered, Billable: true, StartedAt: at, EndedAt: at.Add(time.Minute), Recording: c.recording}); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := d.PurgeCallRecords(now); err != nil || n != 0 {
		t.Fatalf("PurgeCallRecords by default = %d, %v; want 0 (kept)", n, err)
	}
	cfg, err := config.Parse("test.yaml", []byte(strings.Replace(cfgYAML, "data_dir: /nonexistent\n", "data_dir: /nonexistent\ncall_record_retention_days: 62\n", 1)), nil)
	if err != nil {
		t.Fatal(err)
	}
	d.Config = func() *config.Config { return cfg }
	if n, err := d.PurgeCallRecords(now); err != nil || n != 3 {
		t.Fatalf("PurgeCallRecords after 62 days = %d, %v; want 3", n, err)
	}
	left, err := d.Store.ListCalls(store.CallFilter{})
	if err != nil || len(left) != 3 || left[0].ID != "recorded-late" || left[1].ID != "recorded" || left[2].ID != "recent" {
		t.Fatalf("left %+v (%v), want the recorded calls in their recording's retention and a week, and the recent call", left, err)
	}
	// Its month (September, with the recent and the recorded calls)
	// still counts all three.
	if c, err := d.Store.MonthlyCounts("acme", now.Add(-63*24*time.Hour)); err != nil || c.Total != 3 || c.Billable != 3 {
		t.Fatalf("the purged call's month counts %+v (%v), want it still counted (3 calls, 3 billable)", c, err)
	}
}

func TestPurgeIntakes(t *testing.T) {
	d, _ := newDesk(t)
	// acme keeps 30 days, beta for ever (0), gamma the top-level 365.
	y := strings.Replace(cfgYAML, "data_dir: /nonexistent\n", "data_dir: /nonexistent\nintake_retention_days: 365\n", 1)
	y = strings.Replace(y, "    script: standard\n", "    script: standard\n    intake_retention_days: 30\n", 1)
	y = strings.Replace(y, "    greeting: sound:beta\n", "    greeting: sound:beta\n    intake_retention_days: 0\n", 1)
	cfg, err := config.Parse("test.yaml", []byte(y), nil)
	if err != nil {
		t.Fatal(err)
	}
	d.Config = func() *config.Config { return cfg }
	now := time.Date(2026, 11, 29, 3, 0, 0, 0, time.UTC)
	put := func(id, client string, age time.Duration) {
		t.Helper()
		if _, err := d.Store.PutIntake(store.Intake{ID: id, ClientID: client, OperatorID: "op1001", CallerNumber: "0312345678",
			Values: map[string]string{"name": "山田"}, UpdatedAt: now.Add(-age)}); err != nil {
			t.Fatal(err)
		}
	}
	day := 24 * time.Hour
	put("acme-old", "acme", 31*day)
	put("acme-new", "acme", 29*day)
	put("beta-ancient", "beta", 3000*day)
	put("gamma-old", "gamma", 366*day)
	put("gamma-new", "gamma", 364*day)
	put("gone-old", "removed-client", 366*day)
	for _, cb := range []store.Callback{
		{ID: "cb-old-done", ClientID: "acme", Number: "+81312345678", RequestedAt: now.Add(-40 * day), State: store.CallbackDone, DoneAt: now.Add(-31 * day)},
		{ID: "cb-new-done", ClientID: "acme", Number: "+81312345678", RequestedAt: now.Add(-40 * day), State: store.CallbackDone, DoneAt: now.Add(-29 * day)},
		{ID: "cb-old-pending", ClientID: "acme", Number: "+81312345678", RequestedAt: now.Add(-40 * day)},
	} {
		if err := d.Store.PutCallback(cb); err != nil {
			t.Fatal(err)
		}
	}
	n, cbs, err := d.PurgeIntakes(now)
	if err != nil || n != 3 || cbs != 1 {
		t.Fatalf("purged %d messages, %d callbacks (%v), want 3 and 1", n, cbs, err)
	}
	left, err := d.Store.Callbacks("")
	if err != nil || len(left) != 2 {
		t.Fatalf("callbacks left %+v (%v): want the pending one and the one done 29 days ago", left, err)
	}
	for id, kept := range map[string]bool{"acme-old": false, "acme-new": true, "beta-ancient": true, "gamma-old": false, "gamma-new": true, "gone-old": false} {
		if _, err := d.Store.Intake(id); (err == nil) != kept {
			t.Errorf("%s: %v, want kept %v", id, err, kept)
		}
	}
}

// TestCallRefusedWhileDownIsAMissedCall: a call the dialplan's fallback
// refused while toritsugi was down is relayed to a client who wants missed
// calls, saying the caller was asked to call again later.
func TestCallRefusedWhileDownIsAMissedCall(t *testing.T) {
	d, ob := newDesk(t)
	at := time.Date(2026, 11, 29, 10, 0, 0, 0, time.UTC)
	rec := store.CallRecord{ID: fallback.IDPrefix + "1795900000.12", ClientID: "acme", DID: "0312345678", CallerID: "09012345678",
		Result: store.ResultFailed, Reason: fallback.Reason, StartedAt: at, EndedAt: at}
	d.Finished(rec)
	entries, err := ob.List(relay.Filter{MessageID: rec.ID + "-missed-call"})
	if err != nil || len(entries) != 1 {
		t.Fatalf("relayed %d (%v), want the missed-call notice to acme-hook", len(entries), err)
	}
	m := entries[0].Message
	if !strings.HasPrefix(m.Subject, "不在着信") || !strings.Contains(m.Text, "システムの停止中") || !strings.Contains(m.Text, "090-1234-5678") {
		t.Errorf("notice %q / %q", m.Subject, m.Text)
	}
	// Another failed call (not the fallback's) is not a missed call.
	other := rec
	other.ID, other.Reason = "c-other", "originate failed"
	d.Finished(other)
	if entries, _ := ob.List(relay.Filter{MessageID: "c-other-missed-call"}); len(entries) != 0 {
		t.Errorf("a failed call relayed as missed: %v", entries)
	}
}

// TestStatusShowsACorrectionAfterAVersionThatWentNowhere: version 1 of a
// message matched no destination; its correction was queued. The
// console's status of the intake shows the correction's entry.
func TestStatusShowsACorrectionAfterAVersionThatWentNowhere(t *testing.T) {
	d, ob := newDesk(t)
	now := time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)
	in, err := d.Store.PutIntake(store.Intake{ID: "b2", ClientID: "beta", Values: map[string]string{"name": "山田", "urgency": "urgent"}, UpdatedAt: now})
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Submit(context.Background(), in); !errors.Is(err, desk.ErrNoDestination) {
		t.Fatalf("version 1: %v, want no destination", err)
	}
	in.Values = map[string]string{"name": "山田", "urgency": "normal"}
	in.UpdatedAt = now.Add(time.Hour)
	if in, err = d.Store.PutIntake(in); err != nil || in.Version != 2 {
		t.Fatalf("correction: %+v, %v", in, err)
	}
	if err := d.Submit(context.Background(), in); err != nil {
		t.Fatal(err)
	}
	if e, _ := ob.List(relay.Filter{MessageID: "b2-v2"}); len(e) != 1 {
		t.Fatalf("the correction is not queued: %+v", e)
	}
	if st := d.Status("b2"); len(st) != 1 || st[0].Destination != "acme-hook" {
		t.Fatalf("Status(b2) = %+v: want the queued correction's entry to acme-hook", st)
	}
}

// TestCorrectionSaysWhenTheCallWasTaken: a correction made the next day
// tells the client when the call was taken (受付日時), and when it was
// corrected; a message without a company has no stray space in its
// subject.
func TestCorrectionSaysWhenTheCallWasTaken(t *testing.T) {
	d, ob := newDesk(t)
	taken := time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)
	in := store.Intake{ID: "c1", Version: 2, ClientID: "acme", OperatorID: "op1001", CallerNumber: "0312345678",
		Values: map[string]string{"name": "山田", "purpose": "見積もり", "urgency": "normal"}, CreatedAt: taken, UpdatedAt: taken.Add(26 * time.Hour)}
	if err := d.Submit(context.Background(), in); err != nil {
		t.Fatal(err)
	}
	e, _ := ob.List(relay.Filter{MessageID: "c1-v2"})
	if len(e) == 0 {
		t.Fatal("not queued")
	}
	m := e[0].Message
	if !strings.Contains(m.Text, "受付日時: 2026/11/28 19:00") || !strings.Contains(m.Text, "訂正日時: 2026/11/29 21:00") {
		t.Errorf("the correction's text:\n%s\nwant 受付日時: 2026/11/28 19:00 (when the call was taken) and 訂正日時: 2026/11/29 21:00", m.Text)
	}
	if !strings.HasPrefix(m.Subject, "【訂正】山田 様より") {
		t.Errorf("subject %q, want 【訂正】山田 様より… (no company, no stray space)", m.Subject)
	}
}

// TestCorrectionGoesNowhereAnotherClientsMessageWent: a message id is the
// browser's request id; one reused after another client's message of that
// id was deleted (its outbox entries are kept for a while) must not take
// the new message's correction to that other client's destinations.
func TestCorrectionGoesNowhereAnotherClientsMessageWent(t *testing.T) {
	d, ob := newDesk(t)
	now := time.Now()
	in := store.Intake{ID: "i8", Version: 1, ClientID: "acme", OperatorID: "op1001", CallerNumber: "0312345678",
		Values: map[string]string{"name": "山田", "company": "山田商事", "purpose": "見積もり", "urgency": "urgent"}, CreatedAt: now, UpdatedAt: now}
	if err := d.Submit(context.Background(), in); err != nil {
		t.Fatal(err)
	}
	other := store.Intake{ID: "i8", Version: 2, ClientID: "beta", OperatorID: "op1001", CallerNumber: "0312345678",
		Values: map[string]string{"name": "鈴木", "purpose": "その他", "urgency": "urgent"}, CreatedAt: now, UpdatedAt: now}
	_ = d.Submit(context.Background(), other) // beta routes only "normal" ones: none here
	entries, err := ob.List(relay.Filter{MessageID: "i8-v2"})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		t.Errorf("beta's message queued for %s, where acme's message of that id went", e.Destination)
	}
}

// TestMessageSaysWhichVersionOfWhichIntake: what a webhook receives of a
// correction says which message it corrects and which version it is
// (with every answer), so that a receiver keeps the latest version of
// each: intake_id, version, updated_at, call_id in the signed body.
func TestMessageSaysWhichVersionOfWhichIntake(t *testing.T) {
	d, ob := newDesk(t)
	taken := time.Date(2026, 11, 30, 10, 0, 0, 0, time.UTC)
	in := store.Intake{ID: "i11", Version: 1, CallID: "1796000000.1", ClientID: "acme", OperatorID: "op1001", CallerNumber: "0312345678",
		Values: map[string]string{"name": "山田", "company": "山田商事", "purpose": "見積もり", "urgency": "normal"}, CreatedAt: taken, UpdatedAt: taken}
	if err := d.Submit(context.Background(), in); err != nil {
		t.Fatal(err)
	}
	in.Version, in.UpdatedAt, in.Values["name"] = 2, taken.Add(time.Hour), "山田太郎"
	if err := d.Submit(context.Background(), in); err != nil {
		t.Fatal(err)
	}
	entries, err := ob.List(relay.Filter{MessageID: "i11-v2"})
	if err != nil || len(entries) != 1 {
		t.Fatalf("%d entries of the correction (%v)", len(entries), err)
	}
	body, err := json.Marshal(entries[0].Message)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"id":"i11-v2"`, `"intake_id":"i11"`, `"version":2`, `"updated_at":"2026-11-30T11:00:00Z"`,
		`"created_at":"2026-11-30T10:00:00Z"`, `"call_id":"1796000000.1"`, `"name":"山田太郎"`} {
		if !strings.Contains(string(body), want) {
			t.Errorf("the correction's body lacks %s:\n%s", want, body)
		}
	}
}
