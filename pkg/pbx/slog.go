package pbx

import (
	"context"
	"log/slog"

	expslog "golang.org/x/exp/slog"
)

// libraryLogger adapts our log/slog logger to the golang.org/x/exp/slog type
// the ari library's API takes (a different type with the same shape).
func libraryLogger(l *slog.Logger) *expslog.Logger {
	return expslog.New(expHandler{h: l.Handler().WithGroup("ari")})
}

type expHandler struct{ h slog.Handler }

func (a expHandler) Enabled(ctx context.Context, lvl expslog.Level) bool {
	return a.h.Enabled(ctx, slog.Level(lvl))
}

func (a expHandler) Handle(ctx context.Context, r expslog.Record) error {
	out := slog.NewRecord(r.Time, slog.Level(r.Level), r.Message, r.PC)
	r.Attrs(func(at expslog.Attr) bool {
		out.AddAttrs(convertAttr(at))
		return true
	})
	return a.h.Handle(ctx, out)
}

func (a expHandler) WithAttrs(attrs []expslog.Attr) expslog.Handler {
	conv := make([]slog.Attr, len(attrs))
	for i, at := range attrs {
		conv[i] = convertAttr(at)
	}
	return expHandler{h: a.h.WithAttrs(conv)}
}

func (a expHandler) WithGroup(name string) expslog.Handler {
	return expHandler{h: a.h.WithGroup(name)}
}

func convertAttr(at expslog.Attr) slog.Attr {
	v := at.Value.Resolve()
	if v.Kind() == expslog.KindGroup {
		g := v.Group()
		conv := make([]any, len(g))
		for i, x := range g {
			conv[i] = convertAttr(x)
		}
		return slog.Group(at.Key, conv...)
	}
	return slog.Any(at.Key, v.Any())
}
