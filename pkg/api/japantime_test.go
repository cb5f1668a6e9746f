package api_test

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/toritsugi/toritsugi/pkg/api"
	"github.com/toritsugi/toritsugi/pkg/relay"
	"github.com/toritsugi/toritsugi/pkg/store"
	"github.com/toritsugi/toritsugi/pkg/store/storetest"
)

// utcTime matches a JSON time in UTC (what a record made on a machine in
// UTC, a container, keeps).
var utcTime = regexp.MustCompile(`"\d{4}-\d\d-\d\dT[0-9:.]+Z"`)

// TestJSONTimesInJapanTime: the data API's JSON gives every time in Japan
// time (+09:00), as the CSV export, the monthly counts and the webhooks
// do, whatever the zone the records were made in: a call at 08:50 on 1
// December in Japan, made on a machine in UTC, read "2026-11-30T23:50:00Z"
// and was November's to a reader taking the month from started_at.
func TestJSONTimesInJapanTime(t *testing.T) {
	st := storetest.Open(t)
	at := time.Date(2026, 11, 30, 23, 50, 0, 0, time.UTC)
	rec := store.CallRecord{ID: "c1", ClientID: "acme", Result: store.ResultAnswered, StartedAt: at, AnsweredAt: at.Add(time.Second),
		BridgedAt: at.Add(20 * time.Second), EndedAt: at.Add(time.Minute), Events: []store.CallEvent{{At: at, What: "call from 0312345678"}}}
	if err := st.PutCall(rec); err != nil {
		t.Fatal(err)
	}
	if err := st.PutCallback(store.Callback{ID: "cb1", ClientID: "acme", Number: "+819012345678", RequestedAt: at}); err != nil {
		t.Fatal(err)
	}
	ob, err := relay.OpenOutbox(st.Bolt(), relay.OutboxOptions{Clock: &steppedClock{now: at}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ob.Enqueue(relay.Message{ID: "m1", ClientID: "acme", Text: "x", CreatedAt: at, UpdatedAt: at}, []string{"hook"}); err != nil {
		t.Fatal(err)
	}
	h := api.NewHandler(api.Deps{Calls: st, LinkUp: func() bool { return true }, Token: tokenFunc, Outbox: ob})
	for _, c := range []struct{ path, want string }{
		{"/api/v1/calls?from=2026-12-01", `"started_at":"2026-12-01T08:50:00+09:00"`},
		{"/api/v1/calls?changed_after=0", `"ended_at":"2026-12-01T08:51:00+09:00"`},
		{"/api/v1/callbacks", `"requested_at":"2026-12-01T08:50:00+09:00"`},
		{"/api/v1/relay?state=pending", `"created_at":"2026-12-01T08:50:00+09:00"`},
	} {
		resp, body := get(t, h, c.path)
		if resp.StatusCode != 200 || !strings.Contains(string(body), c.want) {
			t.Errorf("%s: %d %s, want %s", c.path, resp.StatusCode, body, c.want)
		}
		if m := utcTime.FindString(string(body)); m != "" {
			t.Errorf("%s: a time in UTC, %s, in %s", c.path, m, body)
		}
	}
}
