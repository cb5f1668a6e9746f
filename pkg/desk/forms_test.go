package desk_test

import (
	"context"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/toritsugi/toritsugi/pkg/call"
	"github.com/toritsugi/toritsugi/pkg/config"
	"github.com/toritsugi/toritsugi/pkg/relay"
	"github.com/toritsugi/toritsugi/pkg/store"
)

// The intake forms: from the client's script, as a call popped with it.

// TestOneUrgencyForRoutesAndText: a message made urgent by a rule (an
// intake's purpose, a voicemail notice's kind) is urgent for every rule:
// it reaches the urgent destinations, says 【至急】, and is not sent where a
// rule on urgent "false" sends the others, whether it is an intake or a
// notice.
func TestOneUrgencyForRoutesAndText(t *testing.T) {
	d, ob := newDeskWith(t, `
ari: {user: toritsugi, password: x}
data_dir: /nonexistent
relay:
  destinations:
    - {name: hook, type: webhook, url: "http://127.0.0.1:1/hook", secret: s}
    - {name: phone, type: webhook, url: "http://127.0.0.1:1/phone", secret: s}
    - {name: digest, type: webhook, url: "http://127.0.0.1:1/digest", secret: s}
clients:
  - id: eps
    name: イプシロン
    dids: ["03-8888-9999"]
    greeting: sound:eps
    script: standard
    relay:
      to: [hook]
      urgent: [phone]
      voicemails: true
      rules:
        - {field: kind, equals: voicemail, urgent: true}
        - {field: purpose, equals: クレーム, urgent: true}
        - {field: urgent, equals: "false", to: [digest]}
operators:
  - {id: op1001, name: 佐藤, endpoint: PJSIP/op1001, clients: ["*"], supervisor: true}
`)
	now := time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)
	for _, purpose := range []string{"クレーム", "見積もり"} {
		id := "i-" + purpose
		in := store.Intake{ID: id, Version: 1, ClientID: "eps", OperatorID: "op1001", CallerNumber: "0312345678",
			Values: map[string]string{"name": "山田", "purpose": purpose, "urgency": "normal"}, CreatedAt: now, UpdatedAt: now}
		if err := d.Submit(context.Background(), in); err != nil {
			t.Fatal(err)
		}
	}
	d.Finished(store.CallRecord{ID: "v1", ClientID: "eps", CallerID: "09012345678", Result: store.ResultVoicemail, Recording: "r", EndedAt: now})
	for _, c := range []struct {
		message string
		urgent  bool
		want    []string
	}{
		{"i-クレーム-v1", true, []string{"hook", "phone"}},
		{"i-見積もり-v1", false, []string{"digest", "hook"}},
		{"v1-voicemail", true, []string{"hook", "phone"}},
	} {
		entries, err := ob.List(relay.Filter{MessageID: c.message})
		if err != nil || len(entries) == 0 {
			t.Fatalf("%s: %d entries, %v", c.message, len(entries), err)
		}
		var dests []string
		for _, e := range entries {
			dests = append(dests, e.Destination)
			if e.Message.Urgent != c.urgent || strings.HasPrefix(e.Message.Text, "【至急】") != c.urgent {
				t.Errorf("%s: urgent %v, text %.30q; want urgent %v", c.message, e.Message.Urgent, e.Message.Text, c.urgent)
			}
		}
		slices.Sort(dests)
		if !slices.Equal(dests, c.want) {
			t.Errorf("%s: sent to %v, want %v", c.message, dests, c.want)
		}
		// a voicemail's notice names its recording, which mail attaches
		if m := entries[0].Message; (m.Kind == relay.KindVoicemail) != (m.Recording == "r") || (m.Recording != "") != strings.Contains(m.Text, "録音: あり") {
			t.Errorf("%s: recording %q, text %q", c.message, m.Recording, m.Text)
		}
	}
}

func TestFormsFromScript(t *testing.T) {
	d, _ := newDesk(t)
	f := d.FormFor("acme", "")
	var ids []string
	for _, fl := range f.Fields {
		ids = append(ids, fl.ID)
	}
	if got := strings.Join(ids, ","); got != "company,name,addressee,purpose,detail,callback_needed,callback,callback_at,urgency" {
		t.Fatalf("standard form fields %s", got)
	}
	vals, errs, readBack := d.Validate("acme", "", "", map[string]string{"name": "山田", "callback": "03-1234-5678", "purpose": "見積もり", "callback_needed": "yes", "urgency": "normal"})
	if len(errs) != 0 || vals["callback"] != "+81312345678" || !strings.Contains(readBack, "03-1234-5678") {
		t.Fatalf("validate: %v %v %q", vals, errs, readBack)
	}
	// 「また改めてお電話します」: no callback, no number.
	if _, errs, _ := d.Validate("acme", "", "", map[string]string{"name": "山田", "purpose": "見積もり", "callback_needed": "no", "urgency": "normal"}); len(errs) != 0 {
		t.Fatalf("a caller who will call again, no number: %v", errs)
	}
	if _, errs, _ := d.Validate("acme", "", "", map[string]string{}); errs["name"] == "" {
		t.Fatalf("missing required name not reported: %v", errs)
	}
}

// TestClientRemovedWhileItsCallerIsPutThrough: a reload removes client
// zeta while its caller waits (the queue still puts the caller through),
// or after the caller was put through (the operator talking or writing).
// Either way the operator answers in zeta's name with zeta's form, and
// the message is relayed as zeta's configuration said when the call came
// in. Before, the pop had no company name and the message could not be
// saved ("unknown client"); removed during the call, the form was empty.
func TestClientRemovedWhileItsCallerIsPutThrough(t *testing.T) {
	for _, tc := range []struct {
		name         string
		afterConnect bool // the reload comes after the connect
	}{{"while the caller waits", false}, {"during the call", true}} {
		t.Run(tc.name, func(t *testing.T) {
			d, ob := newDesk(t)
			withZeta, err := config.Parse("old.yaml", []byte(strings.Replace(cfgYAML, "  - id: gamma\n", "  - id: zeta\n    name: 株式会社ゼータ\n    dids: [\"03-9999-0000\"]\n    greeting: sound:zeta\n    script: standard\n    relay: {to: [acme-boss]}\n  - id: gamma\n", 1)), nil)
			if err != nil {
				t.Fatal(err)
			}
			zeta, ok := withZeta.Client("zeta")
			if !ok {
				t.Fatal("no zeta in the old configuration")
			}
			without := d.Config()
			if _, ok := without.Client("zeta"); ok {
				t.Fatal("zeta in the running configuration")
			}
			var reloaded atomic.Bool
			reloaded.Store(!tc.afterConnect)
			d.Config = func() *config.Config {
				if reloaded.Load() {
					return without
				}
				return withZeta
			}
			d.Connected(call.Connected{CallID: "c9", OperatorID: "op1001", ClientID: "zeta", CallerNumber: "0901234567", Client: zeta})
			reloaded.Store(true)
			if f := d.FormFor("zeta", ""); len(f.Fields) == 0 {
				t.Fatal("no form for the removed client's caller")
			}
			values := map[string]string{"name": "山田", "company": "山田商事", "callback": "090-1234-5678", "purpose": "見積もり", "callback_needed": "no", "urgency": "normal"}
			norm, errs, _ := d.Validate("zeta", "", "", values)
			if len(errs) != 0 {
				t.Fatalf("Validate: %v", errs)
			}
			now := time.Now()
			in := store.Intake{ID: "i9", Version: 1, CallID: "c9", ClientID: "zeta", OperatorID: "op1001", CallerNumber: "0901234567", Values: norm, CreatedAt: now, UpdatedAt: now}
			if err := d.Submit(context.Background(), in); err != nil {
				t.Fatal(err)
			}
			entries, _ := ob.List(relay.Filter{MessageID: "i9-v1"})
			if len(entries) != 1 || entries[0].Destination != "acme-boss" || !strings.Contains(entries[0].Message.Subject, "株式会社ゼータ") {
				t.Fatalf("outbox %+v, want one message for 株式会社ゼータ to acme-boss", entries)
			}
			// An unknown client stays unknown.
			if _, errs, _ := d.Validate("nobody", "", "", values); errs[""] == "" {
				t.Fatal("Validate of a client never configured passed")
			}
		})
	}
}

// TestFormAsTheCallPopped: the operator is typing the message of an acme
// call on the standard form (用件詳細, 宛先, 緊急度) when a reload switches
// acme to the simple form. The save was checked against the new form, and
// what was typed in the fields it lacks was dropped without a word (a
// review; the urgent message then skipped the urgent destinations). The
// call keeps its form as it popped, for the form shown, the check and the
// message relayed; a call the desk does not know, and a new call, get the
// client's form now.
func TestFormAsTheCallPopped(t *testing.T) {
	d, _ := newDesk(t)
	before := d.Config()
	acme, _ := before.Client("acme")
	after, err := config.Parse("new.yaml", []byte(strings.Replace(cfgYAML, "    script: standard\n", "    script: simple\n", 1)), nil)
	if err != nil {
		t.Fatal(err)
	}
	var reloaded atomic.Bool
	d.Config = func() *config.Config {
		if reloaded.Load() {
			return after
		}
		return before
	}
	d.Connected(call.Connected{CallID: "c1", OperatorID: "op1001", ClientID: "acme", CallerNumber: "0901234567", Client: acme})
	standard := len(d.FormFor("acme", "c1").Fields)
	reloaded.Store(true) // the file is saved while the operator types
	if n := len(d.FormFor("acme", "c1").Fields); n != standard {
		t.Fatalf("the call's form after the reload: %d fields, want its %d", n, standard)
	}
	if n := len(d.FormFor("acme", "").Fields); n >= standard {
		t.Fatalf("the client's form now: %d fields, want the simple form's fewer", n)
	}
	typed := map[string]string{
		"name": "山田", "callback": "090-1234-5678", "purpose": "見積もり",
		"addressee": "営業部 田中様", "detail": "来週火曜までに300台分の見積もりが欲しい。前回の単価で。",
		"callback_needed": "yes", "urgency": "urgent",
	}
	norm, errs, _ := d.Validate("acme", "c1", "", typed)
	for k, msg := range errs {
		if msg != "" {
			t.Fatalf("%s: %s", k, msg)
		}
	}
	for _, k := range []string{"detail", "addressee", "urgency"} {
		if norm[k] == "" {
			t.Errorf("the typed %q (%q) is gone: %v", k, typed[k], norm)
		}
	}
}
