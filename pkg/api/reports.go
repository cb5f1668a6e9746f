package api

import (
	"errors"
	"io"
	"net/http"
	"slices"
	"time"

	japan "github.com/toritsugi/toritsugi/pkg/internal/jst"
	"github.com/toritsugi/toritsugi/pkg/report"
	"github.com/toritsugi/toritsugi/pkg/store"
)

// monthOf reads ?month=YYYY-MM (Japan time; default the current month)
// and returns its first instant and the next month's.
func monthOf(r *http.Request, params ...string) (from, to time.Time, err error) {
	if err := knownParams(r.URL.Query(), append([]string{"month", "format"}, params...)...); err != nil {
		return time.Time{}, time.Time{}, err
	}
	month := time.Now().In(tokyo)
	if s := r.URL.Query().Get("month"); s != "" {
		if month, err = time.ParseInLocation("2006-01", s, tokyo); err != nil || month.Year() < 2000 || month.Year() > 2199 {
			return time.Time{}, time.Time{}, errors.New("month: want YYYY-MM from 2000-01 to 2199-12, e.g. 2026-11")
		}
	}
	from = time.Date(month.Year(), month.Month(), 1, 0, 0, 0, 0, tokyo)
	return from, from.AddDate(0, 1, 0), nil
}

// monthReport sums up the month's calls (all of them: a month of a busy
// desk is some tens of thousands of records).
func (d Deps) monthReport(w http.ResponseWriter, r *http.Request, params ...string) ([]report.Client, []report.Operator, string, bool) {
	from, to, err := monthOf(r, params...)
	if err != nil {
		writeJSON(w, http.StatusBadRequest, errorBody{Error: err.Error()})
		return nil, nil, "", false
	}
	var t report.Tally
	err = d.Calls.EachCallPage(store.CallFilter{From: from, To: to, ClientID: r.URL.Query().Get("client")}, exportPage, func(calls []store.CallRecord) error {
		t.Add(calls)
		return nil
	})
	if err != nil {
		d.Logger.Error("report", "error", err)
		writeJSON(w, http.StatusInternalServerError, errorBody{Error: "store error"})
		return nil, nil, "", false
	}
	clients, ops := t.Result()
	return clients, ops, from.Format("2006-01"), true
}

// reportClients: GET /api/v1/reports/clients?month=2026-11[&client=ID][&format=csv],
// each client's month (or one client's): calls, billable, answered (in
// 20 s), abandoned, waits.
func (d Deps) reportClients(w http.ResponseWriter, r *http.Request) {
	clients, _, month, ok := d.monthReport(w, r, "client")
	if !ok {
		return
	}
	if id := r.URL.Query().Get("client"); id != "" {
		clients = slices.DeleteFunc(clients, func(c report.Client) bool { return c.ClientID != id })
	}
	if r.URL.Query().Get("format") == "csv" {
		writeCSV(w, d.Logger, "toritsugi-clients-"+month+".csv", func(w io.Writer) error { return report.WriteClientsCSV(w, month, clients) })
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"month": month, "clients": clients})
}

// reportOperators: GET /api/v1/reports/operators?month=2026-11[&format=csv],
// each operator's month: calls handled, talk time.
func (d Deps) reportOperators(w http.ResponseWriter, r *http.Request) {
	_, ops, month, ok := d.monthReport(w, r)
	if !ok {
		return
	}
	if r.URL.Query().Get("format") == "csv" {
		writeCSV(w, d.Logger, "toritsugi-operators-"+month+".csv", func(w io.Writer) error { return report.WriteOperatorsCSV(w, month, ops) })
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"month": month, "operators": ops})
}

// tokyo is Japan Standard Time (no daylight saving since 1951).
var tokyo = japan.Zone

type countsBody struct {
	Client      string         `json:"client"`
	Month       string         `json:"month"`
	Total       int            `json:"total"`
	Billable    int            `json:"billable"`
	NonBillable int            `json:"non_billable"`
	ByResult    map[string]int `json:"by_result"`
}

// counts serves a client's monthly counts: ?month=2026-11 (Japan time;
// default the current month).
func (d Deps) counts(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	month, _, err := monthOf(r)
	if err != nil {
		writeJSON(w, http.StatusBadRequest, errorBody{Error: err.Error()})
		return
	}
	c, err := d.Calls.MonthlyCounts(id, month)
	if err != nil {
		d.Logger.Error("monthly counts", "error", err)
		writeJSON(w, http.StatusInternalServerError, errorBody{Error: "store error"})
		return
	}
	body := countsBody{Client: id, Month: month.Format("2006-01"), Total: c.Total, Billable: c.Billable, NonBillable: c.NonBillable, ByResult: map[string]int{}}
	for k, v := range c.ByResult {
		body.ByResult[string(k)] = v
	}
	writeJSON(w, http.StatusOK, body)
}

type callbacksBody struct {
	Callbacks []store.Callback `json:"callbacks"`
}

// callbacks lists callback requests: ?state=pending|done (default all),
// &client=ID (default every client's). Another parameter is a 400: one
// misspelt must not widen the list silently.
func (d Deps) callbacks(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if err := knownParams(q, "state", "client"); err != nil {
		writeJSON(w, http.StatusBadRequest, errorBody{Error: err.Error()})
		return
	}
	state := q.Get("state")
	if state != "" && state != store.CallbackPending && state != store.CallbackDone {
		writeJSON(w, http.StatusBadRequest, errorBody{Error: "state: want pending or done"})
		return
	}
	cbs, err := d.Calls.Callbacks(state)
	if err != nil {
		d.Logger.Error("list callbacks", "error", err)
		writeJSON(w, http.StatusInternalServerError, errorBody{Error: "store error"})
		return
	}
	if client := q.Get("client"); client != "" {
		cbs = slices.DeleteFunc(cbs, func(c store.Callback) bool { return c.ClientID != client })
	}
	if cbs == nil {
		cbs = []store.Callback{}
	}
	for i := range cbs {
		cbs[i] = cbs[i].InJapan()
	}
	writeJSON(w, http.StatusOK, callbacksBody{Callbacks: cbs})
}
