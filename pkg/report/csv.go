package report

import (
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	japan "github.com/toritsugi/toritsugi/pkg/internal/jst"

	"github.com/toritsugi/toritsugi/pkg/phone"
	"github.com/toritsugi/toritsugi/pkg/store"
)

// bom starts every CSV: Excel, as Japanese offices open these, reads a
// CSV without it as Shift_JIS and garbles the Japanese.
const bom = "\ufeff"

// resultNames are the results as the CSV says them.
var resultNames = map[store.Result]string{
	store.ResultAnswered: "応答", store.ResultAbandoned: "放棄", store.ResultAfterHours: "時間外",
	store.ResultBlocked: "拒否", store.ResultOverflow: "あふれ", store.ResultTransferred: "転送",
	store.ResultVoicemail: "留守番電話", store.ResultFailed: "失敗", store.ResultUnknownDID: "番号不明",
	store.ResultCompleted: "完了",
}

func resultName(r store.Result) string {
	if n, ok := resultNames[r]; ok {
		return n
	}
	return string(r)
}

// jst is Japan time, the time of every column.
var jst = japan.Zone

func seconds(ms int64) string { return strconv.FormatFloat(float64(ms)/1000, 'f', 1, 64) }

// id keeps an identifier a spreadsheet would read as a number or a date
// (a call id 1795898038.56, a client id 001, the month 2026-11) as text:
// ="…". Ids are of a fixed character set (no quote), checked at load.
func id(s string) string {
	if s == "" {
		return ""
	}
	return `="` + strings.ReplaceAll(s, `"`, `""`) + `"`
}

// text keeps a cell that came from outside (a caller id, a reason) from
// being read as a formula by a spreadsheet: one starting with = + - @ (or
// a tab or carriage return) gets a leading apostrophe.
func text(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// WriteClientsCSV writes the clients of a month as CSV (UTF-8 with BOM,
// Japanese headings, a row per client).
func WriteClientsCSV(w io.Writer, month string, rows []Client) error {
	if _, err := io.WriteString(w, bom); err != nil {
		return err
	}
	cw := csv.NewWriter(w)
	// The service level is 20秒以内(応答・転送) / (応答 + 転送 + 放棄(待ち後)
	// + あふれ(待ち後)): every term is a column. Columns added later go at
	// the end, so that sheets that read them by position keep working.
	_ = cw.Write([]string{"月", "顧客ID", "着信数", "課金対象", "課金対象外", "応答", "転送", "20秒以内(応答・転送)", "サービスレベル(%)",
		"放棄", "放棄(待ち後)", "留守番電話", "時間外", "拒否", "あふれ", "その他", "平均待ち(秒)", "最長待ち(秒)",
		"営業電話", "間違い電話", "無言・いたずら", "あふれ(待ち後)"})
	for _, c := range rows {
		_ = cw.Write([]string{id(month), id(c.ClientID), strconv.Itoa(c.Calls), strconv.Itoa(c.Billable), strconv.Itoa(c.NonBillable),
			strconv.Itoa(c.Answered), strconv.Itoa(c.Transferred), strconv.Itoa(c.AnsweredInTime), serviceLevelCell(c),
			strconv.Itoa(c.Abandoned), strconv.Itoa(c.AbandonedInQueue), strconv.Itoa(c.Voicemail), strconv.Itoa(c.AfterHours),
			strconv.Itoa(c.Blocked), strconv.Itoa(c.Overflow), strconv.Itoa(c.Other), seconds(c.AvgWaitMS), seconds(c.MaxWaitMS),
			strconv.Itoa(c.Sales), strconv.Itoa(c.WrongNumber), strconv.Itoa(c.Silent), strconv.Itoa(c.OverflowInQueue)})
	}
	cw.Flush()
	return cw.Error()
}

// WriteOperatorsCSV writes the operators of a month as CSV.
func WriteOperatorsCSV(w io.Writer, month string, rows []Operator) error {
	if _, err := io.WriteString(w, bom); err != nil {
		return err
	}
	cw := csv.NewWriter(w)
	_ = cw.Write([]string{"月", "オペレーター", "対応件数", "通話時間(秒)", "平均通話時間(秒)"})
	for _, o := range rows {
		_ = cw.Write([]string{id(month), id(o.OperatorID), strconv.Itoa(o.Handled), seconds(o.TalkMS), seconds(o.AvgTalkMS)})
	}
	cw.Flush()
	return cw.Error()
}

// WriteCallsCSV writes call records as CSV, a row per call, times in
// Japan time, numbers as people read them.
func WriteCallsCSV(w io.Writer, calls []store.CallRecord) error {
	cw, err := NewCallsCSV(w)
	if err != nil {
		return err
	}
	return cw.Write(calls)
}

// CallsCSV writes the calls CSV a part at a time: an export of a year is
// written as it is read, not held whole.
type CallsCSV struct{ cw *csv.Writer }

// NewCallsCSV writes the byte-order mark and the heading row.
func NewCallsCSV(w io.Writer) (*CallsCSV, error) {
	if _, err := io.WriteString(w, bom); err != nil {
		return nil, fmt.Errorf("report: calls CSV: %w", err)
	}
	c := &CallsCSV{cw: csv.NewWriter(w)}
	_ = c.cw.Write([]string{"着信日時", "終了日時", "顧客ID", "着信番号", "発信者", "結果", "課金対象", "待ち(秒)", "オペレーター", "理由", "通話ID", "分類"})
	return c, c.flush()
}

// Write writes a row per call and flushes them.
func (c *CallsCSV) Write(calls []store.CallRecord) error {
	at := func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.In(jst).Format("2006-01-02 15:04:05")
	}
	for _, r := range calls {
		billable := "いいえ"
		if r.Billable {
			billable = "はい"
		}
		_ = c.cw.Write([]string{at(r.StartedAt), at(r.EndedAt), id(r.ClientID), numberCell(r.DID),
			numberCell(r.CallerID), resultName(r.Result), billable, seconds(r.WaitMS), id(r.OperatorID), text(r.Reason), id(r.ID), className(r.Class)})
	}
	return c.flush()
}

func (c *CallsCSV) flush() error {
	c.cw.Flush()
	if err := c.cw.Error(); err != nil {
		return fmt.Errorf("report: calls CSV: %w", err)
	}
	return nil
}

// numberCell is a number as people read it (03-1234-5678, 非通知), or,
// for one the parser does not know (an extension 5001, a foreign number
// sent without its +), as it came: the client can still call it back.
// What came is written as text with ="…" (a spreadsheet would read
// (5001), 1E5 or 5001.5 as numbers, and a quoted string is never run), as
// is a recognised number it would read as one (+1…); ="…" shows no mark.
func numberCell(raw string) string {
	c := phone.ParseCallerID(raw)
	if c.Kind == phone.Invalid {
		if t := strings.TrimSpace(raw); t != "" {
			return id(t)
		}
	}
	s := c.Display()
	if looksNumeric(s) {
		return id(s)
	}
	return text(s)
}

// looksNumeric: digits only (a spreadsheet drops a leading zero, writes
// a long one as 1.4E+10), or a + and digits with separators (a sum, or a
// formula once marked with an apostrophe the sheet then shows). A
// Japanese number written with hyphens (03-1234-5678) is read as text.
func looksNumeric(s string) bool {
	rest, plus := strings.CutPrefix(s, "+")
	if rest == "" {
		return false
	}
	for _, r := range rest {
		switch {
		case r >= '0' && r <= '9':
		case plus && (r == '-' || r == ' ' || r == '(' || r == ')'):
		default:
			return false
		}
	}
	return true
}

// className is a call class as the operator chose it in the console.
func className(class string) string {
	switch class {
	case store.ClassSales:
		return "営業電話"
	case store.ClassWrongNumber:
		return "間違い電話"
	case store.ClassSilent:
		return "無言・いたずら"
	}
	return class
}

// serviceLevelCell is the service level in percent, or empty when no call
// reached the queue: a month of after-hours calls has none, not 0.0.
func serviceLevelCell(c Client) string {
	if c.Offered() == 0 {
		return ""
	}
	return strconv.FormatFloat(100*c.ServiceLevel(), 'f', 1, 64)
}
