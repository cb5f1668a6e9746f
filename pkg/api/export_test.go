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
