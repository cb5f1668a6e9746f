// Package console is the operators' web console: login, the operator page
// with live state and screen pop over server-sent events, the intake form
// built from the client's script with a read-back before save, and the
// supervisor wallboard.
//
// Every page is rendered with html/template and every piece of call data
// reaches the browser as JSON that the page's script inserts with
// textContent, never as markup: caller names and intake text are hostile.
// Sessions are kept in the store (a restart logs nobody out); the operator
// id always comes from the session, never from the request.
package console
