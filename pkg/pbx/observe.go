package pbx

import (
	"time"

	"github.com/CyCoreSystems/ari/v6"
)

// Observer is told, with the time, when each event is read from the
// events websocket, when its owner starts handling it, and when each REST
// request is handed to the HTTP client: where an event's latency goes
// between Asterisk writing it and receiving the command it causes (the
// controller's benchmarks use it). Its methods run on the link's reader,
// on call goroutines and on whoever makes a request: they must be quick,
// must not block, and must not keep body.
type Observer interface {
	// EventRead: e's frame was read at at (before it was decoded).
	EventRead(e ari.Event, at time.Time)
	// EventHandling: e's owner (a call's goroutine) took it from its
	// inbox at at.
	EventHandling(e ari.Event, at time.Time)
	// RequestSent: a REST request was handed to the HTTP client at at (it
	// may still wait there for one of the pooled connections). path has
	// no "/ari" prefix.
	RequestSent(method, path, query string, body []byte, at time.Time)
}
