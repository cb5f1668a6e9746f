package intake

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/toritsugi/toritsugi/pkg/phone"
	"golang.org/x/text/width"
)

// Length limits of free-text answers, in characters.
const (
	maxTextRunes      = 200
	maxMultilineRunes = 2000
)

// jst is Japan time. Japan has had no daylight saving time since 1951, so a
// fixed zone is exact and needs no tz database on the host.
var jst = time.FixedZone("Asia/Tokyo", 9*60*60)

// clean trims spaces (including full-width ones), replaces invalid UTF-8,
// and drops what a paste from a web page or a mail brings along unseen:
// control characters (line breaks and tabs are kept), zero-width and
// byte-order marks, and bidirectional overrides (which would reverse the
// rest of a mail subject). A line or paragraph separator is a line break.
func clean(raw string) string {
	return strings.TrimSpace(strings.Map(visible, strings.ToValidUTF8(raw, "\uFFFD")))
}

// visible is clean's rune mapping (-1 drops the rune).
func visible(r rune) rune {
	switch {
	case r == '\n' || r == '\r' || r == '\t' || r == '\u200d': // ZWJ joins emoji
		return r
	case r == '\u2028' || r == '\u2029':
		return '\n'
	case unicode.IsControl(r) || unicode.Is(unicode.Cf, r):
		return -1
	}
	return r
}

// oneLine turns line breaks and tabs into spaces.
var oneLine = strings.NewReplacer("\r\n", " ", "\r", " ", "\n", " ", "\t", " ")

// normalise checks a cleaned, non-empty answer and returns its stored form,
// or a message in Japanese saying what is wrong.
func normalise(f Field, raw string) (string, string) {
	switch f.Type {
	case TypeMultiline:
		v := strings.ReplaceAll(strings.ReplaceAll(raw, "\r\n", "\n"), "\r", "\n")
		if utf8.RuneCountInString(v) > maxMultilineRunes {
			return "", fmt.Sprintf("%d文字以内で入力してください", maxMultilineRunes)
		}
		return v, ""
	case TypePhone:
		number, ext := splitExtension(raw)
		e164, err := phone.ParseNumber(number)
		if err != nil {
			return "", phoneMessage(number, err)
		}
		if ext != "" {
			return e164 + extSep + ext, ""
		}
		return e164, ""
	case TypeChoice:
		if _, ok := f.choice(raw); !ok {
			return "", "選択肢にない値です。一覧から選んでください"
		}
		return raw, ""
	case TypeYesNo:
		if v, ok := yesNo(raw); ok {
			return v, ""
		}
		return "", "「はい」か「いいえ」で入力してください"
	case TypeDateTime:
		t, ok := parseDateTime(raw)
		if !ok {
			return "", "日時を「2026-01-05 14:00」の形式で入力してください"
		}
		return t.Format(time.RFC3339), ""
	}
	v := strings.TrimSpace(oneLine.Replace(raw))
	if utf8.RuneCountInString(v) > maxTextRunes {
		return "", fmt.Sprintf("%d文字以内で入力してください", maxTextRunes)
	}
	return v, ""
}

// phoneExample ends the messages of a refused phone number.
const phoneExample = "（例: 03-1234-5678、090-1234-5678、03-1234-5678 内線123）"

// phoneMessage says, in Japanese, why number (the answer without its
// extension) was refused: a character that is no part of a number (a
// note such as 代表 or 携帯, a wave dash), a national number of the wrong
// length, or its form in general.
func phoneMessage(number string, err error) string {
	var ne *phone.NumberError
	if errors.As(err, &ne) && ne.Char != 0 && ne.Char != '+' && ne.Char != '＋' {
		return fmt.Sprintf("「%c」は電話番号に使えません。番号だけを入力し、「代表」「携帯」などは用件の欄へ%s", ne.Char, phoneExample)
	}
	var digits []rune
	for _, r := range width.Narrow.String(number) {
		if r >= '0' && r <= '9' {
			digits = append(digits, r)
		}
	}
	if len(digits) > 0 && digits[0] == '0' && !strings.HasPrefix(string(digits), "00") && len(digits) != 10 && len(digits) != 11 {
		return fmt.Sprintf("電話番号の桁数が違います（%d桁）。固定電話は市外局番から10桁、携帯電話は11桁です%s", len(digits), phoneExample)
	}
	return "電話番号の形式が正しくありません" + phoneExample
}

// extSep joins a phone number's E.164 form and its extension in the stored
// value ("+81312345678;ext=123", as in a tel: URI, RFC 3966).
const extSep = ";ext="

// extension finds an extension after a number, as operators write it:
// 内線123, 内線:123, （内線123）, 内線123番, 内123, ext.123, EXT:12, x123,
// #123, or the stored ;ext=123.
var extension = regexp.MustCompile(`(?i)^(.*?)[\s,、]*(?:[(（]\s*)?(?:内線|内|ext\.?|x|#|;ext=)\s*[:：]?\s*([0-9]{1,8})\s*番?\s*[)）]?$`)

// splitExtension splits what an operator typed into the number and its
// extension ("" if none). Full-width digits and signs are read as ASCII.
func splitExtension(raw string) (number, ext string) {
	folded := width.Fold.String(raw)
	if m := extension.FindStringSubmatch(folded); m != nil && strings.TrimSpace(m[1]) != "" {
		return m[1], m[2]
	}
	return raw, ""
}

// yesNo understands the ways an operator writes yes or no.
func yesNo(raw string) (string, bool) {
	if len(raw) > 16 {
		return "", false
	}
	switch strings.ToLower(raw) {
	case "yes", "y", "true", "はい", "要", "あり", "有":
		return "yes", true
	case "no", "n", "false", "いいえ", "不要", "なし", "無":
		return "no", true
	}
	return "", false
}

// dateFold maps full-width digits and punctuation typed with a Japanese
// input method onto ASCII.
func dateFold(r rune) rune {
	switch {
	case r >= '０' && r <= '９':
		return '0' + (r - '０')
	case r == '：':
		return ':'
	case r == '／':
		return '/'
	case r == '－' || r == '‐' || r == 'ー':
		return '-'
	case r == 'Ｔ':
		return 'T'
	}
	return r
}

// dateLayouts are the forms accepted without a zone, read as Japan time.
var dateLayouts = []string{
	"2006-1-2 15:04", "2006-1-2T15:04", "2006-1-2 15:04:05", "2006-1-2T15:04:05",
	"2006/1/2 15:04", "2006/1/2 15:04:05",
	"2006年1月2日 15:04", "2006年1月2日15:04",
	"2006年1月2日 15時04分", "2006年1月2日15時04分", "2006年1月2日 15時", "2006年1月2日15時",
}

// parseDateTime reads a date and time: RFC 3339 with a zone, or one of
// dateLayouts in Japan time. Years outside 2000–2999 are refused as typos.
func parseDateTime(raw string) (time.Time, bool) {
	if len(raw) > 80 { // longer than any accepted form, even full-width
		return time.Time{}, false
	}
	s := strings.Join(strings.Fields(strings.Map(dateFold, raw)), " ")
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		for _, layout := range dateLayouts {
			if t, err = time.ParseInLocation(layout, s, jst); err == nil {
				break
			}
		}
	}
	if err != nil {
		return time.Time{}, false
	}
	t = t.In(jst)
	if t.Year() < 2000 || t.Year() > 2999 {
		return time.Time{}, false
	}
	return t, true
}

// weekdays are the Japanese one-character weekday names, Sunday first.
var weekdays = [7]string{"日", "月", "火", "水", "木", "金", "土"}

// spoken returns an answer as the operator reads it back: a phone number in
// Japanese grouping, a choice by label, はい/いいえ, "1月5日(月) 14:00". An
// answer that does not validate is read as written.
func spoken(f Field, raw string) string {
	raw = clean(raw)
	if raw == "" {
		return ""
	}
	v, msg := normalise(f, raw)
	if msg != "" {
		return strings.TrimSpace(oneLine.Replace(raw))
	}
	switch f.Type {
	case TypePhone:
		number, ext, _ := strings.Cut(v, extSep)
		if ext != "" {
			return phone.ParseCallerID(number).Display() + " 内線" + ext
		}
		return phone.ParseCallerID(number).Display()
	case TypeChoice:
		if c, _ := f.choice(v); c.Label != "" {
			return c.Label
		}
	case TypeYesNo:
		if v == "yes" {
			return "はい"
		}
		return "いいえ"
	case TypeDateTime:
		t, _ := time.Parse(time.RFC3339, v)
		return fmt.Sprintf("%d月%d日(%s) %s", t.Month(), t.Day(), weekdays[t.Weekday()], t.Format("15:04"))
	case TypeMultiline:
		return strings.TrimSpace(oneLine.Replace(v))
	}
	return v
}
