package console

import (
	"bytes"
	"html/template"
	"net/http"

	"github.com/toritsugi/toritsugi/pkg/store"
)

// pages holds the parsed page templates.
type pages struct {
	t *template.Template
}

// mustPages parses the embedded templates; they are fixed at build time,
// so a parse error is a programming error.
func mustPages() *pages {
	return &pages{t: template.Must(template.ParseFS(assets, "templates/*.html"))}
}

// pageData is what every template gets.
type pageData struct {
	Lang string
	// M are the UI strings of Lang.
	M map[string]string
	// Error is the key of an error message to show, if any.
	Error      string
	OperatorID string
	Name       string
	Supervisor bool
	CSRF       string
	// Reasons are the pause reasons offered.
	Reasons []string
	// Classes are the call classes offered ("" first: an ordinary call).
	Classes []string
	// Other is the language the switch link offers.
	Other string
}

// render executes a template into a buffer first, so a failure is a clean
// 500 rather than half a page.
func (p *pages) render(w http.ResponseWriter, status int, name string, d pageData) {
	d.M = messages[d.Lang]
	d.Other = langEN
	if d.Lang == langEN {
		d.Other = langJA
	}
	var buf bytes.Buffer
	if err := p.t.ExecuteTemplate(&buf, name, d); err != nil {
		http.Error(w, "page error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = buf.WriteTo(w) // the browser may have gone
}

// login renders the login page with an optional error message key.
func (p *pages) login(w http.ResponseWriter, status int, lang, errKey, id string) {
	p.render(w, status, "login.html", pageData{Lang: lang, Error: errKey, OperatorID: id})
}

// consolePage: GET /console.
func (c *Console) consolePage(w http.ResponseWriter, r *http.Request, a authed) {
	c.pages.render(w, http.StatusOK, "console.html", c.data(a))
}

// supervisorPage: GET /supervisor (supervisors only).
func (c *Console) supervisorPage(w http.ResponseWriter, r *http.Request, a authed) {
	c.pages.render(w, http.StatusOK, "supervisor.html", c.data(a))
}

// data fills the page data of a logged-in operator.
func (c *Console) data(a authed) pageData {
	return pageData{Lang: a.lang, OperatorID: a.op.ID, Name: a.op.Name, Supervisor: a.op.Supervisor, CSRF: a.sess.csrf, Reasons: c.reasons,
		Classes: append([]string{""}, store.CallClasses...)}
}
