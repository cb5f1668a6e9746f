package main

import (
	"context"
	"html/template"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/toritsugi/toritsugi/pkg/relay"
)

// demoRelay stands in for every relay channel in the demo: messages are
// "delivered" to a page (/demo/outbox) instead of mail and chat services.
type demoRelay struct {
	log  *slog.Logger
	mu   sync.Mutex
	sent []demoSent
}

type demoSent struct {
	At          time.Time
	Destination string
	Type        string
	Message     relay.Message
}

func (d *demoRelay) senders() map[string]relay.Sender {
	m := map[string]relay.Sender{}
	for _, typ := range []string{"email", "slack", "chatwork", "teams", "lineworks", "webhook"} {
		m[typ] = relay.SenderFunc(func(_ context.Context, dst relay.Destination, msg relay.Message) error {
			d.mu.Lock()
			d.sent = append(d.sent, demoSent{At: time.Now(), Destination: dst.Name, Type: typ, Message: msg})
			d.mu.Unlock()
			d.log.Info("demo relay: delivered (simulated)", "destination", dst.Name, "type", typ, "subject", msg.Subject)
			return nil
		})
	}
	return m
}

var demoJST = time.FixedZone("JST", 9*60*60)

var demoOutboxPage = template.Must(template.New("outbox").Parse(`<!doctype html>
<html lang="ja"><head><meta charset="utf-8"><title>toritsugi demo — relayed messages</title>
<meta http-equiv="refresh" content="5"></head>
<body style="font-family:sans-serif;max-width:60em;margin:auto">
<h1>取り次ぎ済みメッセージ (simulated relay)</h1>
<p>This is a simulation: in production these go by email, Slack, Chatwork, Teams, LINE WORKS or webhook.</p>
{{range .}}<article style="border:1px solid #ccc;margin:1em 0;padding:0 1em">
<h2>{{.Message.Subject}}</h2><p>{{.At.Format "15:04:05"}} → {{.Destination}} ({{.Type}})</p>
<pre style="white-space:pre-wrap">{{.Message.Text}}</pre></article>
{{else}}<p>Nothing relayed yet: log in as an operator, take a call and save an intake.</p>{{end}}
</body></html>`))

func (d *demoRelay) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	d.mu.Lock()
	sent := make([]demoSent, len(d.sent))
	for i := range d.sent {
		sent[len(sent)-1-i] = d.sent[i] // newest first
		// Japan time, as the messages' 受付日時, not the machine's.
		sent[len(sent)-1-i].At = d.sent[i].At.In(demoJST)
	}
	d.mu.Unlock()
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_ = demoOutboxPage.Execute(w, sent)
}
