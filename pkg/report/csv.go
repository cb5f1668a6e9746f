package report

import (
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

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
var jst = time.FixedZone("JST", 9*60*60)

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
	// The service level is 20秒以内(応答・転送) / (応答 + 転送 + 放棄(待ち後)):
	// every term is a column. Columns added later go at the end, so that
	// sheets that read them by position keep working.
	_ = cw.Write([]string{"月", "顧客ID", "着信数", "課金対象", "課金対象外", "応答", "転送", "20秒以内(応答・転送)", "サービスレベル(%)",
		"放棄", "放棄(待ち後)", "留守番電話", "時間外", "拒否", "あふれ", "その他", "平均待ち(秒)", "最長待ち(秒)",
		"営業電話", "間違い電話", "無言・いたずら"})
	for _, c := range rows {
		_ = cw.Write([]string{id(month), id(c.ClientID), strconv.Itoa(c.Calls), strconv.Itoa(c.Billable), strconv.Itoa(c.NonBillable),
			strconv.Itoa(c.Answered), strconv.Itoa(c.Transferred), strconv.Itoa(c.AnsweredInTime), strconv.FormatFloat(100*c.ServiceLevel(), 'f', 1, 64),
			strconv.Itoa(c.Abandoned), strconv.Itoa(c.AbandonedInQueue), strconv.Itoa(c.Voicemail), strconv.Itoa(c.AfterHours),
			strconv.Itoa(c.Blocked), strconv.Itoa(c.Overflow), strconv.Itoa(c.Other), seconds(c.AvgWaitMS), seconds(c.MaxWaitMS),
			strconv.Itoa(c.Sales), strconv.Itoa(c.WrongNumber), strconv.Itoa(c.Silent)})
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
	if _, err := io.WriteString(w, bom); err != nil {
		return err
	}
	cw := csv.NewWriter(w)
	_ = cw.Write([]string{"着信日時", "終了日時", "顧客ID", "着信番号", "発信者", "結果", "課金対象", "待ち(秒)", "オペレーター", "理由", "通話ID", "分類"})
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
		_ = cw.Write([]string{at(r.StartedAt), at(r.EndedAt), id(r.ClientID), text(phone.ParseCallerID(r.DID).Display()),
			text(phone.ParseCallerID(r.CallerID).Display()), resultName(r.Result), billable, seconds(r.WaitMS), id(r.OperatorID), text(r.Reason), id(r.ID), className(r.Class)})
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("report: calls CSV: %w", err)
	}
	return nil
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
