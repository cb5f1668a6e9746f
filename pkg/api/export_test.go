package api

// RouteAccess is a data API route's pattern and who may use it:
// "service", "client-param" or "client-path".
type RouteAccess struct{ Pattern, Access string }

// Routes lists the data API routes of d, for the external tests.
func Routes(d Deps) []RouteAccess {
	var out []RouteAccess
	for _, r := range d.routes() {
		out = append(out, RouteAccess{r.pattern, map[access]string{serviceOnly: "service", byClientParam: "client-param", byClientPath: "client-path"}[r.access]})
	}
	return out
}

// SetUnreadablePageSize sets how many entries set aside one page of
// GET /api/v1/relay?state=unreadable lists, and returns the size before.
func SetUnreadablePageSize(n int) (old int) {
	old, unreadablePageSize = unreadablePageSize, n
	return old
}
