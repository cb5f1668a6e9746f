package desk

import (
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/toritsugi/toritsugi/pkg/call"
	"github.com/toritsugi/toritsugi/pkg/config"
	"github.com/toritsugi/toritsugi/pkg/console"
)

// poppedConfig is a configuration of clients c0..c(n-1), version v in
// their names, with the guided form and a manual.
func poppedConfig(t *testing.T, n, v int) *config.Config {
	t.Helper()
	y := "ari: {user: toritsugi, password: secret}\ndata_dir: /var/lib/toritsugi\nclients:\n"
	for i := range n {
		y += fmt.Sprintf("  - {id: c%d, name: 株式会社%d-%d, dids: [\"03-1000-%04d\"], greeting: sound:x, script: guided, manual: 伝言を承ります}\n", i, i, v, i)
	}
	y += "operators:\n  - {id: op1001, name: 佐藤, endpoint: PJSIP/op1001, clients: [\"*\"]}\n"
	cfg, err := config.Parse("t.yaml", []byte(y), nil)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// TestPoppedCallKeepsOnlyItsClient: a reload between calls put through.
// Each call's client was kept as the pointer into its configuration's
// Clients: the desk's recent calls (2048) and removed clients kept every
// client, script and manual of every version a call came in under. Each
// keeps a copy of its one client now, which still answers the call's
// form as it popped.
func TestPoppedCallKeepsOnlyItsClient(t *testing.T) {
	var cfgs []*config.Config
	d := &Desk{Config: func() *config.Config { return cfgs[len(cfgs)-1] }, Logger: slog.New(slog.DiscardHandler)}
	at := time.Date(2026, 6, 1, 9, 0, 0, 0, time.UTC)
	for v := range 10 {
		cfgs = append(cfgs, poppedConfig(t, 5, v)) // a reload
		cl, _ := cfgs[v].Client(fmt.Sprintf("c%d", v%5))
		d.Connected(call.Connected{CallID: fmt.Sprintf("call-%d", v), ClientID: cl.ID, OperatorID: "op1001", Client: cl, At: at})
	}
	intoAConfig := func(cl *config.Client) bool {
		for _, cfg := range cfgs {
			for i := range cfg.Clients {
				if cl == &cfg.Clients[i] {
					return true
				}
			}
		}
		return false
	}
	for id, k := range d.popped.m {
		if intoAConfig(k.cl) {
			t.Errorf("call %s keeps its configuration's Clients", id)
		}
	}
	for id, k := range d.retired.m {
		if intoAConfig(k.cl) {
			t.Errorf("client %s (retired) keeps its configuration's Clients", id)
		}
	}
	if len(d.popped.m) != 10 || len(d.retired.m) != 5 {
		t.Fatalf("%d calls and %d clients kept, want 10 and 5", len(d.popped.m), len(d.retired.m))
	}
	cl, ok := d.popped.get("call-2")
	if !ok || cl.Name != "株式会社2-2" || cl.Manual == "" {
		t.Fatalf("call-2's client %+v, want c2 as version 2 named it, with its manual", cl)
	}
	if f, want := d.FormFor("c2", "call-2"), FormSpec(cl.Script()); len(f.Fields) == 0 || len(f.Fields) != len(want.Fields) {
		t.Fatalf("call-2's form has %d fields, want the guided form's %d", len(f.Fields), len(want.Fields))
	}
}

// TestPoppedClientsGoWithTheirScreenPops: the clients kept for calls put
// through (and for clients a reload removed since) stay while the
// console keeps the call's screen pop, and go with it: before, the last
// 2048 calls and every client ever put through stayed for as long as the
// process ran.
func TestPoppedClientsGoWithTheirScreenPops(t *testing.T) {
	old := poppedConfig(t, 2, 0)
	cur := old
	now := time.Date(2026, 6, 1, 9, 0, 0, 0, time.UTC)
	d := &Desk{Config: func() *config.Config { return cur }, Logger: slog.New(slog.DiscardHandler), Now: func() time.Time { return now }}
	popped := now
	cl, _ := old.Client("c1")
	d.Connected(call.Connected{CallID: "call-1", ClientID: "c1", OperatorID: "op1001", Client: cl, At: popped})
	cur = poppedConfig(t, 1, 1) // c1 removed

	now = popped.Add(console.KeepPopsFor - time.Second)
	d.SweepPops()
	if _, ok := d.popped.get("call-1"); !ok {
		t.Fatal("the call's client went before its screen pop")
	}
	if f := d.FormFor("c1", ""); len(f.Fields) == 0 {
		t.Fatal("the removed client went before its call's screen pop")
	}

	now = popped.Add(console.KeepPopsFor)
	d.SweepPops()
	if len(d.popped.m) != 0 || len(d.popped.order) != 0 || len(d.retired.m) != 0 {
		t.Fatalf("kept after the screen pop was swept: %d calls (%d in order), %d removed clients", len(d.popped.m), len(d.popped.order), len(d.retired.m))
	}
}
