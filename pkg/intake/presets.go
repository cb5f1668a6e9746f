package intake

import "fmt"

// Lines shared by the presets.
const (
	presetGreeting = "お電話ありがとうございます。{client}でございます。"
	presetClosing  = "承知いたしました。担当者より折り返しご連絡いたします。お電話ありがとうございました。"
	simpleReadBack = "[{company}の]{name}様、お電話番号 {callback}、ご用件は{purpose}の件で、よろしいでしょうか。"
	// The detailed presets ask for a number only when a callback is
	// wanted: a caller who will call again (often from a withheld
	// number) leaves none, and is promised no callback.
	fullReadBack = "[{company}の]{name}様、[お電話番号 {callback}、][{addressee}宛てに、]ご用件は{purpose}の件[、折り返しは{callback_at}ご希望]で、よろしいでしょうか。"
	fullClosing  = "承知いたしました。担当者に申し伝えます。お電話ありがとうございました。"
)

// Preset returns the built-in script of a scope: simple (会社名, お名前,
// 折返し番号, ご用件), standard (会社名, お名前, 宛先, ご用件, 用件詳細,
// 折返し要否 with, when a callback is wanted, 折返し番号 and 希望日時,
// 緊急度) or guided (standard plus 案内した内容). custom and unknown
// scopes have no preset: the error wraps ErrUnknownScope. Each call returns
// a fresh copy that the caller may change.
func Preset(scope string) (Script, error) {
	switch scope {
	case ScopeSimple:
		return Script{
			ID: "simple", Name: "シンプル（社名・お名前・折返し番号・ご用件）", Scope: ScopeSimple,
			Greeting: presetGreeting, Fields: simpleFields(), Closing: presetClosing, ReadBack: simpleReadBack,
		}, nil
	case ScopeStandard:
		return Script{
			ID: "standard", Name: "スタンダード（宛先・用件詳細・折返し・緊急度）", Scope: ScopeStandard,
			Greeting: presetGreeting, Fields: standardFields(), Closing: fullClosing, ReadBack: fullReadBack,
		}, nil
	case ScopeGuided:
		fields := append(standardFields(), Field{
			ID: "guidance", Label: "案内した内容", Type: TypeMultiline,
			Help: "マニュアルに沿ってご案内した内容（所在地・営業時間・よくある質問など）を記録します",
		})
		return Script{
			ID: "guided", Name: "ガイド付き（スタンダード＋マニュアル案内）", Scope: ScopeGuided,
			Greeting: presetGreeting, Fields: fields, Closing: fullClosing, ReadBack: fullReadBack,
		}, nil
	}
	return Script{}, fmt.Errorf("%w: %q (presets: simple, standard, guided)", ErrUnknownScope, scope)
}

// simpleFields are the four questions every intake asks.
func simpleFields() []Field {
	return []Field{
		{ID: "company", Label: "会社名", Type: TypeText, Help: "個人のお客様は空欄のままにします"},
		{ID: "name", Label: "お名前", Type: TypeText, Required: true, Help: "フルネームで伺い、読みが難しい場合はフリガナも控えます"},
		{ID: "callback", Label: "折返し番号", Type: TypePhone, Required: true, Help: "番号を復唱して確認します"},
		{ID: "purpose", Label: "ご用件", Type: TypeText, Required: true, Help: "ご用件を短く（例: 見積もり、納期の確認）"},
	}
}

// standardFields add addressee, details, callback and urgency. The
// number is asked (and required) only when a callback is wanted, after
// that question: show_if refers to earlier fields only.
func standardFields() []Field {
	simple := simpleFields()
	company, name, callback, purpose := simple[0], simple[1], simple[2], simple[3]
	callback.Help = "折返しをご希望の場合に伺い、番号を復唱して確認します"
	callback.ShowIf = &Cond{Field: "callback_needed", Equals: []string{"yes"}}
	return []Field{company, name,
		Field{ID: "addressee", Label: "宛先（担当者）", Type: TypeText, Help: "ご指名がなければ空欄のままにします"},
		purpose,
		Field{ID: "detail", Label: "用件詳細", Type: TypeMultiline, Help: "伺った内容をできるだけそのまま記録します"},
		Field{ID: "callback_needed", Label: "折返し要否", Type: TypeYesNo, Required: true,
			Help: "「また改めてお電話します」なら「いいえ」: 番号は伺いません"},
		callback,
		Field{
			ID: "callback_at", Label: "折返し希望日時", Type: TypeDateTime,
			Help:   "ご希望があれば伺います（例: 2026-01-05 14:00）",
			ShowIf: &Cond{Field: "callback_needed", Equals: []string{"yes"}},
		},
		Field{
			ID: "urgency", Label: "緊急度", Type: TypeChoice, Required: true,
			Choices: []Choice{{Value: "normal", Label: "通常"}, {Value: "urgent", Label: "至急"}},
			Help:    "「至急」はすぐにクライアントへ連絡されます",
		},
	}
}

// Urgent reports whether answers mark a message urgent: the detailed
// preset's choice urgency "urgent" (至急), or a field called urgent
// (お急ぎですか, yesno) answered yes. Relay rules on urgent with "true"
// or "false" read it; urgent destinations receive such messages.
func Urgent(values map[string]string) bool {
	return values["urgency"] == "urgent" || values[UrgentFieldID] == "yes"
}

// UrgentFieldID is the id of a field whose yes marks the message urgent.
const UrgentFieldID = "urgent"
