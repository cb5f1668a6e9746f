package aritest

import (
	"encoding/json"
	"fmt"
	"net/url"
	"reflect"
	"sort"
	"strings"
)

// request replays one REST request and compares status, body and headers.
func (r *replay) request(l line) {
	t := r.t
	path := r.ids.toFake(l.Path)
	q := url.Values{}
	for k, v := range l.Query {
		q.Set(k, r.ids.toFake(v))
	}
	var body []byte
	switch {
	case l.BodyText != nil:
		body = []byte(*l.BodyText)
	case len(l.Body) > 0:
		body = []byte(r.ids.toFake(string(l.Body)))
	}
	auth := r.auth
	switch l.Auth {
	case "wrong":
		auth = basicAuth("toritsugi", "wrong")
	case "none":
		auth = ""
	}
	resp, got := doRequest(t, r.s, l.Method, path, q, body, auth)
	what := fmt.Sprintf("%s %s", l.Method, l.Path)
	if resp.StatusCode != l.Status {
		t.Errorf("%s: status %d, want %d (body %s)", what, resp.StatusCode, l.Status, got)
		return
	}
	for _, h := range []string{"Allow", "Www-Authenticate", "Content-Type", "Server", "Cache-Control"} {
		want, ok := l.Headers[h]
		if !ok {
			continue
		}
		if have := resp.Header.Get(h); normalize(r.ids.toFake(want)) != normalize(have) {
			t.Errorf("%s: header %s %q, want %q", what, h, have, want)
		}
	}
	if want, ok := l.Headers["Location"]; ok {
		if strings.HasSuffix(l.Path, "/play") {
			r.bindPlayback(l, got)
		}
		if have := resp.Header.Get("Location"); normalize(r.ids.toFake(want)) != normalize(have) {
			t.Errorf("%s: Location %q, want %q", what, have, want)
		}
	}
	if l.Status == 204 && len(got) != 0 {
		t.Errorf("%s: 204 with a body %q", what, got)
	}
	if len(l.Response) == 0 || l.Response[0] == 'n' {
		return
	}
	want := canonical(t, normalize(r.ids.toFake(string(l.Response))))
	have := canonical(t, normalize(string(got)))
	if l.Trunc != nil {
		r.patched["truncated list "+l.Path]++
		if _, ok := have.([]any); !ok {
			t.Errorf("%s: want a list, got %s", what, got)
		}
		return
	}
	sortLists(want)
	sortLists(have)
	if !reflect.DeepEqual(want, have) {
		t.Errorf("%s: body\n got %s\nwant %s", what, got, r.ids.toFake(string(l.Response)))
	}
}

// bindPlayback maps a recorded generated playback id to the fake's.
func (r *replay) bindPlayback(l line, got []byte) {
	var rec, fake struct{ ID string }
	if json.Unmarshal(l.Response, &rec) != nil || json.Unmarshal(got, &fake) != nil {
		return
	}
	if reUUID.MatchString(rec.ID) {
		r.ids[rec.ID] = fake.ID
	}
}

// sortLists orders top-level lists of objects by id: GET /channels comes
// in hash order in Asterisk (KNOWN_DIFFERENCES.md).
func sortLists(v any) {
	list, ok := v.([]any)
	if !ok {
		return
	}
	sort.SliceStable(list, func(i, j int) bool {
		return fmt.Sprint(idOf(list[i])) < fmt.Sprint(idOf(list[j]))
	})
}

func idOf(v any) any {
	if m, ok := v.(map[string]any); ok {
		if id, ok := m["id"]; ok {
			return id
		}
		return m["name"]
	}
	return v
}

// objectKey names the object an event is about, for per-object order.
func objectKey(ev map[string]any) string {
	for _, k := range []string{"channel", "peer", "playback", "bridge", "endpoint"} {
		if o, ok := ev[k].(map[string]any); ok {
			if id, ok := o["id"]; ok {
				return fmt.Sprintf("%s:%v", k, id)
			}
			return fmt.Sprintf("%s:%v", k, o["resource"])
		}
	}
	if o, ok := ev["recording"].(map[string]any); ok {
		return fmt.Sprintf("recording:%v", o["name"])
	}
	return "application"
}

type evSeq map[string][]any

func (r *replay) group(texts []string) (evSeq, []string) {
	seq := evSeq{}
	var types []string
	for _, text := range texts {
		v := canonical(r.t, normalize(text))
		m := v.(map[string]any)
		key := objectKey(m)
		if key == "peer:"+fmt.Sprint(idOf(m["peer"])) {
			key = "channel:" + strings.TrimPrefix(key, "peer:")
		}
		seq[key] = append(seq[key], v)
		types = append(types, fmt.Sprintf("%v", m["type"]))
	}
	return seq, types
}

// compareEvents compares each websocket's events object by object.
func (r *replay) compareEvents() {
	rec := map[int][]string{}
	for _, l := range r.lines {
		if l.Kind == "event" {
			rec[l.WS] = append(rec[l.WS], r.ids.toFake(string(l.Event)))
		}
	}
	for n, c := range r.ws {
		got := c.events()
		want := r.applyExceptions(rec[n])
		wantSeq, wantTypes := r.group(want)
		gotSeq, gotTypes := r.group(got)
		r.checkCausal(n, gotTypes, got)
		for key, w := range wantSeq {
			g := gotSeq[key]
			if !reflect.DeepEqual(w, g) {
				r.t.Errorf("ws %d %s: events differ\n got %s\nwant %s%s", n, key, typesOf(g), typesOf(w), firstDiff(g, w))
			}
		}
		for key, g := range gotSeq {
			if _, ok := wantSeq[key]; !ok {
				r.t.Errorf("ws %d: unexpected events for %s: %s", n, key, dump(g))
			}
		}
		if len(gotTypes) != len(wantTypes) {
			r.t.Errorf("ws %d: %d events, want %d", n, len(gotTypes), len(wantTypes))
		}
	}
}

func typesOf(v []any) string {
	var out []string
	for _, e := range v {
		m := e.(map[string]any)
		t := fmt.Sprint(m["type"])
		if name, ok := m["variable"]; ok {
			t += "(" + fmt.Sprint(name) + ")"
		}
		out = append(out, t)
	}
	return strings.Join(out, " ")
}

func firstDiff(g, w []any) string {
	for i := range min(len(g), len(w)) {
		if !reflect.DeepEqual(g[i], w[i]) {
			gj, _ := json.Marshal(g[i])
			wj, _ := json.Marshal(w[i])
			return fmt.Sprintf("\n first difference at %d:\n got %s\nwant %s", i, gj, wj)
		}
	}
	return ""
}

func dump(v []any) string {
	var b strings.Builder
	for _, e := range v {
		j, _ := json.Marshal(e)
		b.WriteString("\n   ")
		b.Write(j)
	}
	return b.String()
}

// checkCausal asserts the orderings that hold in every run (README rule 8).
func (r *replay) checkCausal(n int, types []string, texts []string) {
	first := func(typ string) int {
		for i, t := range types {
			if t == typ {
				return i
			}
		}
		return -1
	}
	last := func(typ string) int {
		k := -1
		for i, t := range types {
			if t == typ {
				k = i
			}
		}
		return k
	}
	if rf, bd := last("RecordingFinished"), first("BridgeDestroyed"); rf >= 0 && bd >= 0 && rf > bd {
		r.t.Errorf("ws %d: RecordingFinished after BridgeDestroyed", n)
	}
	if rs, ce := first("RecordingStarted"), last("ChannelEnteredBridge"); rs >= 0 && ce >= 0 && strings.Contains(r.name, "bridge") && rs < ce {
		r.t.Errorf("ws %d: RecordingStarted before the channels entered the bridge", n)
	}
	if lb, rf := last("ChannelLeftBridge"), last("RecordingFinished"); lb >= 0 && rf >= 0 && strings.Contains(r.name, "bridge") && rf < lb {
		r.t.Errorf("ws %d: RecordingFinished before the last channel left", n)
	}
	if ar := first("ApplicationReplaced"); ar >= 0 && ar != len(types)-1 {
		r.t.Errorf("ws %d: events after ApplicationReplaced: %v", n, texts[ar+1:])
	}
}
