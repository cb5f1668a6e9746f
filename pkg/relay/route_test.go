package relay

import (
	"slices"
	"testing"
)

func TestRoute(t *testing.T) {
	rules := []Rule{
		{To: []string{"desk-mail"}},
		{Field: "addressee", Equals: "佐藤", To: []string{"sato-mail", "sato-lw"}},
		{Field: "purpose", Equals: "見積依頼", To: []string{"sales-slack", "desk-mail"}},
		{Field: "urgency", Equals: "至急", Urgent: true},
		{Field: "caller", Equals: "0312345678", To: []string{"vip-hook"}},
		{Field: "kind", Equals: KindVoicemail, To: []string{"vm-chatwork"}},
		{Field: "client_id", Equals: "c-9", To: []string{"c9-teams"}},
		{Field: "addressee", Equals: "サトウ", To: []string{"kana-mail"}},
		{Field: "addressee", Equals: "ワタナベ", To: []string{"kana-watanabe"}},
		{Field: "callback", Equals: "099-512-3456", To: []string{"kirishima"}},
	}
	urgent := []string{"oncall-sms", "sato-lw"}
	msg := func(urgentFlag bool, kind string, kv ...string) Message {
		m := Message{ID: "m", ClientID: "c-1", Kind: kind, Urgent: urgentFlag, Fields: map[string]string{}}
		for i := 0; i+1 < len(kv); i += 2 {
			m.Fields[kv[i]] = kv[i+1]
		}
		return m
	}
	tests := []struct {
		name string
		m    Message
		want []string
	}{
		{"default only", msg(false, KindIntake), []string{"desk-mail"}},
		{"addressee", msg(false, KindIntake, "addressee", "佐藤"), []string{"desk-mail", "sato-mail", "sato-lw"}},
		{"other addressee", msg(false, KindIntake, "addressee", "鈴木"), []string{"desk-mail"}},
		{"full-width letters as typed", msg(false, KindIntake, "purpose", "見積依頼 "), []string{"desk-mail", "sales-slack"}},
		{"half-width katakana as typed", msg(false, KindIntake, "addressee", "ｻﾄｳ"), []string{"desk-mail", "kana-mail"}},
		{"half-width katakana with a voiced mark", msg(false, KindIntake, "addressee", "ﾜﾀﾅﾍﾞ"), []string{"desk-mail", "kana-watanabe"}},
		{"full-width digits as typed", msg(false, KindMissedCall, "caller", "０３１２３４５６７８"), []string{"desk-mail", "vip-hook"}},
		// Messages show numbers grouped (03-1234-5678); a rule may write
		// one without hyphens, or grouped otherwise: the same number.
		{"a caller as messages show it", msg(false, KindMissedCall, "caller", "03-1234-5678"), []string{"desk-mail", "vip-hook"}},
		{"a number grouped otherwise", msg(false, KindIntake, "callback", "0995-12-3456"), []string{"desk-mail", "kirishima"}},
		{"another number", msg(false, KindIntake, "callback", "0995-12-3457"), []string{"desk-mail"}},
		{"purpose dedupes desk", msg(false, KindIntake, "purpose", "見積依頼"), []string{"desk-mail", "sales-slack"}},
		{"urgency field adds urgent dests", msg(false, KindIntake, "urgency", "至急"), []string{"desk-mail", "oncall-sms", "sato-lw"}},
		{"urgent flag adds urgent dests", msg(true, KindIntake), []string{"desk-mail", "oncall-sms", "sato-lw"}},
		{"urgent dest already routed keeps first position",
			msg(true, KindIntake, "addressee", "佐藤"), []string{"desk-mail", "sato-mail", "sato-lw", "oncall-sms"}},
		{"caller", msg(false, KindMissedCall, "caller", "0312345678"), []string{"desk-mail", "vip-hook"}},
		{"kind attribute", msg(false, KindVoicemail), []string{"desk-mail", "vm-chatwork"}},
		{"field shadows attribute", msg(false, KindIntake, "kind", KindVoicemail), []string{"desk-mail", "vm-chatwork"}},
		{"client attribute", Message{ClientID: "c-9"}, []string{"desk-mail", "c9-teams"}},
		{"the whole value, not a part", msg(false, KindIntake, "addressee", "佐藤部長"), []string{"desk-mail"}},
		{"spaces around a value", msg(false, KindIntake, "addressee", "佐藤 "), []string{"desk-mail", "sato-mail", "sato-lw"}},
	}
	// A form's urgent answer does not hide the message's urgency from a
	// rule on urgent: the answer is what made the message urgent.
	byUrgent := []Rule{{Field: "urgent", Equals: "true", To: []string{"boss"}}}
	if got := Route(msg(true, KindIntake, "urgent", "yes"), byUrgent, nil); !slices.Equal(got, []string{"boss"}) {
		t.Errorf("urgent answer yes: Route = %v, want [boss]", got)
	}
	if got := Route(msg(false, KindIntake, "urgent", "true"), byUrgent, nil); len(got) != 0 {
		t.Errorf("a message not urgent: Route = %v, want none", got)
	}
	// A rule written on the answer itself (はい, yes, a choice's value)
	// reads the answer, as it always did.
	onAnswer := []Rule{{Field: "urgent", Equals: "はい", To: []string{"boss"}}, {Field: "urgent", Equals: "high", To: []string{"desk"}}}
	if got := Route(msg(true, KindIntake, "urgent", "はい"), onAnswer, nil); !slices.Equal(got, []string{"boss"}) {
		t.Errorf("rule on the answer はい: Route = %v, want [boss]", got)
	}
	if got := Route(msg(false, KindIntake, "urgent", "high"), onAnswer, nil); !slices.Equal(got, []string{"desk"}) {
		t.Errorf("rule on a choice called urgent: Route = %v, want [desk]", got)
	}
	// A rule that says urgent makes the message urgent; one that does
	// not match does not.
	ruleUrgent := []Rule{{Field: "purpose", Equals: "クレーム", Urgent: true}}
	if !Urgency(msg(false, KindIntake, "purpose", "クレーム"), ruleUrgent) || Urgency(msg(false, KindIntake, "purpose", "見積"), ruleUrgent) {
		t.Error("Urgency does not follow the rule that says urgent")
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Route(tt.m, rules, urgent); !slices.Equal(got, tt.want) {
				t.Errorf("Route = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestRouteEdgeCases(t *testing.T) {
	if got := Route(Message{Urgent: true}, nil, nil); len(got) != 0 {
		t.Errorf("no rules = %v, want none", got)
	}
	rules := []Rule{{Field: "urgent", Equals: "true", To: []string{"", "a", "a"}}}
	if got := Route(Message{Urgent: true}, rules, []string{"a", "b", ""}); !slices.Equal(got, []string{"a", "b"}) {
		t.Errorf("Route = %v, want [a b]", got)
	}
	if got := Route(Message{}, rules, []string{"b"}); len(got) != 0 {
		t.Errorf("non-urgent = %v, want none", got)
	}
	// True in capitals is the message's urgency too, not an answer "True".
	capital := []Rule{{Field: "urgent", Equals: "True", To: []string{"a"}}}
	if got := Route(Message{Urgent: true}, capital, nil); !slices.Equal(got, []string{"a"}) {
		t.Errorf("urgent: True on an urgent message = %v, want [a]", got)
	}
	if got := Route(Message{Fields: map[string]string{"urgent": "True"}}, capital, nil); len(got) != 0 {
		t.Errorf("urgent: True on a message not urgent = %v, want none", got)
	}
}
