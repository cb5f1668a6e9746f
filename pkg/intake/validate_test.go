package intake

import (
	"maps"
	"slices"
	"testing"
)

func TestValidate(t *testing.T) {
	simple, err := Preset(ScopeSimple)
	if err != nil {
		t.Fatal(err)
	}
	standard, err := Preset(ScopeStandard)
	if err != nil {
		t.Fatal(err)
	}
	branching := loadBranching(t)
	tests := []struct {
		name       string
		script     Script
		in         Values
		wantValues Values
		wantErrors map[string]string
	}{
		{
			name:   "simple complete, trimmed, phone to E.164",
			script: simple,
			in:     Values{"company": "　株式会社アクメ ", "name": "山田 太郎", "callback": "０３－１２３４－５６７８", "purpose": "見積もり\n"},
			wantValues: Values{
				"company": "株式会社アクメ", "name": "山田 太郎", "callback": "+81312345678", "purpose": "見積もり",
			},
		},
		{
			name:       "required missing, optional empty left out, unknown ids dropped",
			script:     simple,
			in:         Values{"company": "  ", "callback": "090-1234-5678", "extra": "x"},
			wantValues: Values{"callback": "+819012345678"},
			wantErrors: map[string]string{"name": "「お名前」を入力してください", "purpose": "「ご用件」を入力してください"},
		},
		{
			name:       "bad phone keeps the input",
			script:     simple,
			in:         Values{"name": "山田", "callback": "03-12", "purpose": "見積もり"},
			wantValues: Values{"name": "山田", "callback": "03-12", "purpose": "見積もり"},
			wantErrors: map[string]string{"callback": "電話番号の桁数が違います（4桁）。固定電話は市外局番から10桁、携帯電話は11桁です（例: 03-1234-5678、090-1234-5678、03-1234-5678 内線123）"},
		},
		{
			name:       "a note typed after the number is named",
			script:     simple,
			in:         Values{"name": "山田", "callback": "03-1234-5678（代表）", "purpose": "見積もり"},
			wantValues: Values{"name": "山田", "callback": "03-1234-5678（代表）", "purpose": "見積もり"},
			wantErrors: map[string]string{"callback": "「代」は電話番号に使えません。番号だけを入力し、「代表」「携帯」などは用件の欄へ（例: 03-1234-5678、090-1234-5678、03-1234-5678 内線123）"},
		},
		{
			name:       "a wave dash is named",
			script:     simple,
			in:         Values{"name": "山田", "callback": "090〜1234〜5678", "purpose": "見積もり"},
			wantValues: Values{"name": "山田", "callback": "090〜1234〜5678", "purpose": "見積もり"},
			wantErrors: map[string]string{"callback": "「〜」は電話番号に使えません。番号だけを入力し、「代表」「携帯」などは用件の欄へ（例: 03-1234-5678、090-1234-5678、03-1234-5678 内線123）"},
		},
		{
			name:       "a number of the right length but no Japanese one",
			script:     simple,
			in:         Values{"name": "山田", "callback": "010-1234-5678", "purpose": "見積もり"},
			wantValues: Values{"name": "山田", "callback": "010-1234-5678", "purpose": "見積もり"},
			wantErrors: map[string]string{"callback": "電話番号の形式が正しくありません（例: 03-1234-5678、090-1234-5678、03-1234-5678 内線123）"},
		},
		{
			name:   "standard: callback wanted with date, yesno normalised",
			script: standard,
			in: Values{
				"name": "山田", "callback": "+81 3 1234 5678", "purpose": "納期", "callback_needed": "はい",
				"callback_at": "2026/1/5 14:00", "urgency": " urgent ", "detail": "一行目\r\n二行目",
			},
			wantValues: Values{
				"name": "山田", "callback": "+81312345678", "purpose": "納期", "callback_needed": "yes",
				"callback_at": "2026-01-05T14:00:00+09:00", "urgency": "urgent", "detail": "一行目\n二行目",
			},
		},
		{
			name:   "standard: datetime in other zone and Japanese form",
			script: standard,
			in: Values{
				"name": "山田", "callback": "0312345678", "purpose": "納期", "callback_needed": "要",
				"callback_at": "2026-01-05T05:00:00Z", "urgency": "normal",
			},
			wantValues: Values{
				"name": "山田", "callback": "+81312345678", "purpose": "納期", "callback_needed": "yes",
				"callback_at": "2026-01-05T14:00:00+09:00", "urgency": "normal",
			},
		},
		{
			name:   "standard: hidden callback and callback_at are dropped, bad choice and yesno",
			script: standard,
			in: Values{
				"name": "山田", "callback": "0312345678", "purpose": "納期", "callback_needed": "no",
				"callback_at": "garbage", "urgency": "very",
			},
			wantValues: Values{
				"name": "山田", "purpose": "納期", "callback_needed": "no", "urgency": "very",
			},
			wantErrors: map[string]string{"urgency": "選択肢にない値です。一覧から選んでください"},
		},
		{
			name:   "standard: bad datetime and yesno",
			script: standard,
			in: Values{
				"name": "山田", "callback": "0312345678", "purpose": "納期", "callback_needed": "yes",
				"callback_at": "明日の午後", "urgency": "normal",
			},
			wantValues: Values{
				"name": "山田", "callback": "+81312345678", "purpose": "納期", "callback_needed": "yes",
				"callback_at": "明日の午後", "urgency": "normal",
			},
			wantErrors: map[string]string{"callback_at": "日時を「2026-01-05 14:00」の形式で入力してください"},
		},
		{
			name:       "standard: yesno not understood hides its dependants",
			script:     standard,
			in:         Values{"name": "山田", "callback": "0312345678", "purpose": "納期", "callback_needed": "たぶん", "callback_at": "2026-01-05 14:00", "urgency": "normal"},
			wantValues: Values{"name": "山田", "purpose": "納期", "callback_needed": "たぶん", "urgency": "normal"},
			wantErrors: map[string]string{"callback_needed": "「はい」か「いいえ」で入力してください"},
		},
		{
			// 「また改めてお電話します」, from a withheld number: no
			// callback, no number to take.
			name:   "standard: the caller will call again and leaves no number",
			script: standard,
			in: Values{"company": "山田商事", "name": "山田 太郎", "purpose": "見積もりの件、また掛け直します",
				"callback_needed": "no", "urgency": "normal"},
			wantValues: Values{"company": "山田商事", "name": "山田 太郎", "purpose": "見積もりの件、また掛け直します",
				"callback_needed": "no", "urgency": "normal"},
		},
		{
			name:       "standard: a callback wanted needs its number",
			script:     standard,
			in:         Values{"name": "山田", "purpose": "納期", "callback_needed": "yes", "urgency": "normal"},
			wantValues: Values{"name": "山田", "purpose": "納期", "callback_needed": "yes", "urgency": "normal"},
			wantErrors: map[string]string{"callback": "「折返し番号」を入力してください"},
		},
		{
			name:       "branching: sales call needs nothing else, answers to other branches dropped",
			script:     branching,
			in:         Values{"purpose": "sales", "sales_note": "株式会社セールス", "name": "営業太郎", "callback": "bad"},
			wantValues: Values{"purpose": "sales", "sales_note": "株式会社セールス"},
		},
		{
			name:       "branching: nothing chosen asks only for the purpose",
			script:     branching,
			in:         Values{},
			wantValues: Values{},
			wantErrors: map[string]string{"purpose": "「ご用件の種類」を選択してください"},
		},
		{
			name:   "branching: existing customer",
			script: branching,
			in: Values{
				"purpose": "support", "caller_type": "existing", "company": "アクメ", "name": "山田",
				"customer_no": "C-001", "referral": "広告", "callback": "03-1234-5678", "urgent": "はい",
				"callback_at": "2026-01-05 14:00",
			},
			wantValues: Values{
				"purpose": "support", "caller_type": "existing", "company": "アクメ", "name": "山田",
				"customer_no": "C-001", "callback": "+81312345678", "urgent": "yes",
			},
		},
		{
			name:   "branching: new customer must answer name, phone, urgency",
			script: branching,
			in:     Values{"purpose": "estimate", "caller_type": "new", "customer_no": "C-001", "referral": "テレビ"},
			wantValues: Values{
				"purpose": "estimate", "caller_type": "new", "referral": "テレビ",
			},
			wantErrors: map[string]string{
				"name":     "「お名前」を入力してください",
				"callback": "「折返し番号」を入力してください",
				"urgent":   "「お急ぎですか」を選択してください",
				"referral": "選択肢にない値です。一覧から選んでください",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.script.Validate(tt.in)
			if !maps.Equal(got.Values, tt.wantValues) {
				t.Errorf("Values = %v\nwant     %v", got.Values, tt.wantValues)
			}
			if tt.wantErrors == nil {
				tt.wantErrors = map[string]string{}
			}
			if !maps.Equal(got.Errors, tt.wantErrors) {
				t.Errorf("Errors = %v\nwant     %v", got.Errors, tt.wantErrors)
			}
			if got.OK() != (len(tt.wantErrors) == 0) {
				t.Errorf("OK() = %v with errors %v", got.OK(), got.Errors)
			}
		})
	}
}

func TestVisible(t *testing.T) {
	branching := loadBranching(t)
	standard, err := Preset(ScopeStandard)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		script Script
		in     Values
		want   []string
	}{
		{"nothing answered", branching, nil, []string{"purpose"}},
		{"sales", branching, Values{"purpose": "sales"}, []string{"purpose", "sales_note"}},
		{"purpose with spaces", branching, Values{"purpose": " sales "}, []string{"purpose", "sales_note"}},
		{"unknown purpose", branching, Values{"purpose": "spam"}, []string{"purpose"}},
		{"estimate before caller type", branching, Values{"purpose": "estimate"}, []string{"purpose", "caller_type"}},
		{
			"new caller", branching, Values{"purpose": "estimate", "caller_type": "new"},
			[]string{"purpose", "caller_type", "company", "name", "referral", "callback", "detail", "urgent"},
		},
		{
			"existing caller, not urgent", branching, Values{"purpose": "other", "caller_type": "existing", "urgent": "いいえ"},
			[]string{"purpose", "caller_type", "company", "name", "customer_no", "contact_person", "callback", "detail", "urgent", "callback_at"},
		},
		{
			"hiding a field hides its dependants", branching, Values{"purpose": "sales", "caller_type": "existing", "urgent": "no"},
			[]string{"purpose", "sales_note"},
		},
		{
			"standard without callback", standard, Values{"callback_needed": "no"},
			[]string{"company", "name", "addressee", "purpose", "detail", "callback_needed", "urgency"},
		},
		{
			"standard with callback", standard, Values{"callback_needed": "YES"},
			[]string{"company", "name", "addressee", "purpose", "detail", "callback_needed", "callback", "callback_at", "urgency"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, f := range tt.script.Visible(tt.in) {
				got = append(got, f.ID)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("Visible = %v\nwant      %v", got, tt.want)
			}
		})
	}
}

func TestDateTimeForms(t *testing.T) {
	f := Field{ID: "at", Label: "日時", Type: TypeDateTime}
	const want = "2026-01-05T09:05:00+09:00"
	for _, in := range []string{
		"2026-01-05 09:05", "2026-1-5 9:05", "2026-01-05T09:05", "2026-01-05 09:05:00", "2026/01/05 09:05",
		"2026年1月5日 9:05", "2026年1月5日9時05分", "２０２６／０１／０５　０９：０５", "2026-01-05T00:05:00Z",
		"2026-01-05T09:05:00+09:00",
	} {
		got, msg := normalise(f, in)
		if msg != "" || got != want {
			t.Errorf("normalise(%q) = %q, %q; want %q", in, got, msg, want)
		}
	}
	for _, in := range []string{"2026-01-05", "14:00", "2026-13-01 10:00", "1999-12-31 10:00", "明日"} {
		if got, msg := normalise(f, in); msg == "" {
			t.Errorf("normalise(%q) = %q, want an error", in, got)
		}
	}
}

func TestTextLimits(t *testing.T) {
	text := Field{ID: "x", Label: "X", Type: TypeText}
	if _, msg := normalise(text, string(slices.Repeat([]rune("あ"), maxTextRunes+1))); msg != "200文字以内で入力してください" {
		t.Errorf("too long text: message %q", msg)
	}
	if got, msg := normalise(text, string(slices.Repeat([]rune("あ"), maxTextRunes))); msg != "" || got == "" {
		t.Errorf("text at the limit: %q, %q", got, msg)
	}
	if got, msg := normalise(text, "一行目\n二行目\t三"); msg != "" || got != "一行目 二行目 三" {
		t.Errorf("text line breaks: %q, %q", got, msg)
	}
	multi := Field{ID: "y", Label: "Y", Type: TypeMultiline}
	if _, msg := normalise(multi, string(slices.Repeat([]rune("あ"), maxMultilineRunes+1))); msg != "2000文字以内で入力してください" {
		t.Errorf("too long multiline: message %q", msg)
	}
	if got := clean("  \xff山田\u3000"); got != "\uFFFD山田" {
		t.Errorf("clean = %q", got)
	}
}

// TestPhoneExtensions: a callback number with an extension, written any
// way operators write it, is kept with its extension (stored after the
// E.164 form as ";ext=", as in a tel: URI) and read back and relayed as
// 03-1234-5678 内線123. It used to be refused, and the operator could not
// save without dropping the extension.
func TestPhoneExtensions(t *testing.T) {
	f := Field{ID: "callback", Label: "折返し番号", Type: TypePhone, Required: true}
	for _, tc := range []struct{ in, stored, spoken string }{
		{"03-1234-5678 内線123", "+81312345678;ext=123", "03-1234-5678 内線123"},
		{"03-1234-5678（内線123）", "+81312345678;ext=123", "03-1234-5678 内線123"},
		{"０３－１２３４－５６７８　内線１２３", "+81312345678;ext=123", "03-1234-5678 内線123"},
		{"03-1234-5678 ext.45", "+81312345678;ext=45", "03-1234-5678 内線45"},
		{"03-1234-5678 x45", "+81312345678;ext=45", "03-1234-5678 内線45"},
		{"03-1234-5678#9", "+81312345678;ext=9", "03-1234-5678 内線9"},
		{"03-1234-5678 内線:123", "+81312345678;ext=123", "03-1234-5678 内線123"},
		{"03-1234-5678（内線：１２３）", "+81312345678;ext=123", "03-1234-5678 内線123"},
		{"03-1234-5678 内線123番", "+81312345678;ext=123", "03-1234-5678 内線123"},
		{"03-1234-5678 内123", "+81312345678;ext=123", "03-1234-5678 内線123"},
		{"03-1234-5678 EXT:12", "+81312345678;ext=12", "03-1234-5678 内線12"},
		{"+81312345678;ext=123", "+81312345678;ext=123", "03-1234-5678 内線123"}, // as stored: a correction
		{"090-1234-5678", "+819012345678", "090-1234-5678"},
	} {
		v, msg := normalise(f, clean(tc.in))
		if msg != "" || v != tc.stored {
			t.Errorf("normalise(%q) = %q, %q; want %q", tc.in, v, msg, tc.stored)
			continue
		}
		if got := spoken(f, v); got != tc.spoken {
			t.Errorf("spoken(%q) = %q, want %q", v, got, tc.spoken)
		}
	}
	for _, bad := range []string{"内線123", "03-1234-5678 内線", "03-1234-5678 内線123456789", "03-1234 内線1"} {
		if v, msg := normalise(f, clean(bad)); msg == "" {
			t.Errorf("normalise(%q) = %q, accepted", bad, v)
		}
	}
}

// TestPastedInvisibles: what a paste from a web page or a mail signature
// brings along unseen (a byte-order mark, zero-width spaces, control
// characters, a right-to-left override that would reverse the rest of a
// mail subject) is dropped; a line separator is a line break. Numbers
// with such characters, or with the half-width ･ and the small ﹣ as
// separators, are accepted.
func TestPastedInvisibles(t *testing.T) {
	text := Field{ID: "name", Type: TypeText}
	multi := Field{ID: "detail", Type: TypeMultiline}
	tel := Field{ID: "callback", Type: TypePhone}
	for _, tc := range []struct {
		f       Field
		in, out string
	}{
		{tel, "\ufeff03-1234-5678", "+81312345678"},
		{tel, "03-1234-5678\u200b", "+81312345678"},
		{tel, "03･1234･5678", "+81312345678"},
		{tel, "090﹣1234﹣5678", "+819012345678"},
		{text, "山田\x00太郎", "山田太郎"},
		{text, "山田\x1b[2J太郎", "山田[2J太郎"},
		{text, "株式会社\u202eABC", "株式会社ABC"},
		{text, "一行目\u2028二行目", "一行目 二行目"},
		{multi, "一行目\u2028二行目", "一行目\n二行目"},
		{text, "家族👨\u200d👩\u200d👧", "家族👨\u200d👩\u200d👧"},
	} {
		if v, msg := normalise(tc.f, clean(tc.in)); msg != "" || v != tc.out {
			t.Errorf("%s %q: %q, %q; want %q", tc.f.Type, tc.in, v, msg, tc.out)
		}
	}
}

// TestValidateForCaller: a field with show_if caller is shown, checked and
// kept only for the classes it lists, with what depends on it; for others
// (and a script given no class) it is not required, and its answer is
// dropped as a hidden field's.
func TestValidateForCaller(t *testing.T) {
	s := loadCallers(t)
	typed := Values{"company": "山田商事", "name": "山田", "callback": "090-1234-5678", "same_matter": "はい", "previous_note": "数量を変更", "purpose": "見積もり"}
	asKnown := Values{"name": "山田", "purpose": "見積もり"}
	tests := []struct {
		class      string
		in         Values
		wantValues Values
		wantErrors map[string]string
	}{
		{class: CallerKnown, in: typed, wantValues: asKnown},
		{class: CallerVIP, in: Values{"name": "山田"}, wantValues: Values{"name": "山田"}, wantErrors: map[string]string{"purpose": "「ご用件」を入力してください"}},
		{
			class: CallerWithheld, in: Values{"name": "山田", "purpose": "見積もり"},
			wantValues: Values{"name": "山田", "purpose": "見積もり"},
			wantErrors: map[string]string{"callback": "「折返し番号」を入力してください"},
		},
		{
			class: CallerWithheld, in: typed,
			wantValues: Values{"company": "山田商事", "name": "山田", "callback": "+819012345678", "purpose": "見積もり"},
		},
		{
			class: CallerRepeat, in: typed,
			wantValues: Values{"company": "山田商事", "name": "山田", "same_matter": "yes", "previous_note": "数量を変更", "purpose": "見積もり"},
		},
		{
			class: CallerNew, in: Values{"callback": "bad", "department": "営業部", "purpose": "見積もり"},
			wantValues: Values{"department": "営業部", "purpose": "見積もり"},
			wantErrors: map[string]string{"name": "「お名前」を入力してください"},
		},
		{class: "", in: typed, wantValues: asKnown},
		{class: "stranger", in: typed, wantValues: asKnown},
	}
	for _, tc := range tests {
		name := tc.class
		if name == "" {
			name = "no class"
		}
		t.Run(name, func(t *testing.T) {
			r := s.ForCaller(tc.class).Validate(tc.in)
			if !maps.Equal(r.Values, tc.wantValues) {
				t.Errorf("values %v, want %v", r.Values, tc.wantValues)
			}
			if tc.wantErrors == nil {
				tc.wantErrors = map[string]string{}
			}
			if !maps.Equal(r.Errors, tc.wantErrors) {
				t.Errorf("errors %v, want %v", r.Errors, tc.wantErrors)
			}
		})
	}
	// The read-back and the relayed answers read the same fields.
	withheld := s.ForCaller(CallerWithheld)
	r := withheld.Validate(typed)
	if want := "山田商事の山田様、お電話番号 090-1234-5678、ご用件は見積もりの件で、よろしいでしょうか。"; r.ReadBack != want {
		t.Errorf("read-back %q, want %q", r.ReadBack, want)
	}
	if got := withheld.Display(r.Values); got["callback"] != "090-1234-5678" {
		t.Errorf("Display for the class %v, want the callback", got)
	}
	if got := s.Display(r.Values); got["callback"] != "" {
		t.Errorf("Display without the class %v: shows a field its caller was not asked", got)
	}
	// The script itself is not changed by ForCaller.
	if len(s.Visible(typed)) != 2 {
		t.Errorf("the script without a class shows %v", s.Visible(typed))
	}
}
