package operators

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"

	"github.com/CyCoreSystems/ari/v6"
	"github.com/toritsugi/toritsugi/pkg/pbx"
)

// OnConnect subscribes the client's application to the events of every
// tracked endpoint ("endpoint:PJSIP/op1001") and then reads the state of
// each (GET /endpoints/{tech}/{resource}), so that events lost while the
// link was down are repaired. Install it as pbx.Options.OnConnect; call it
// again with the link's client after Track added endpoints.
//
// Each endpoint is subscribed to alone, not its whole technology
// ("endpoint:PJSIP"): Asterisk sends an app subscribed to an endpoint an
// EndpointStateChange whenever a channel of it comes or goes, and forwards
// its channels' messages; the trunk's, one pair a call, are not wanted.
//
// An endpoint Asterisk does not know (422 to the subscription, 404 to the
// read) is marked unreachable and logged as a misconfigured operator; its
// whole technology is subscribed to then, so that its events come once it
// is made (added to pjsip.conf and reloaded, a realtime endpoint made at
// its first use). Other failures leave that endpoint's state as it was;
// every failure is returned, joined, after all endpoints were tried.
// Subscribing before reading means no change can fall between the two: an
// event raised after the read is delivered and applied after it, and a read
// answer older than an event already applied is dropped.
func (r *Registry) OnConnect(ctx context.Context, c ari.Client) error {
	// One at a time: a connect's, a retry's and a reload's may overlap,
	// and each gives up what it finds unwanted.
	r.connecting.Lock()
	defer r.connecting.Unlock()
	eps, since := r.tracked()
	var errs []error
	app := ari.NewKey(ari.ApplicationKey, c.ApplicationName())
	// What the application is subscribed to already (an earlier connect's,
	// or an earlier run's: Asterisk keeps an application's subscriptions
	// past its websocket while it has any, and counts them). Each is
	// subscribed to again, as one that ended with its endpoint shows (a
	// 422: its technology then), and given back once, so that a count
	// does not grow with each connect and reload.
	had := subscribedTo(c, app, r.log)
	subscribe := func(src string) error {
		err := c.Application().Subscribe(app, "endpoint:"+src)
		if err == nil && had[src] {
			if err := c.Application().Unsubscribe(app, "endpoint:"+src); err != nil {
				r.log.Warn("giving back a second subscription", "source", "endpoint:"+src, "error", err)
			}
		}
		return err
	}
	whole := map[string]bool{}
	for _, ep := range eps {
		if err := ctx.Err(); err != nil {
			return errors.Join(append(errs, err)...)
		}
		err := subscribe(ep)
		if pbx.StatusCode(err) == http.StatusUnprocessableEntity {
			// "Event source does not exist" (recording 12): the read
			// below finds it missing and says so.
			tech, _, _ := strings.Cut(ep, "/")
			if whole[tech] {
				continue
			}
			whole[tech] = true
			err = subscribe(tech)
			if pbx.StatusCode(err) == http.StatusUnprocessableEntity {
				// A technology Asterisk does not have (SIP/ on
				// Asterisk 22): nothing to wait for; the read warns.
				continue
			}
			ep = tech
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("operators: subscribe %s to endpoint:%s: %w", app.ID, ep, err))
		}
	}
	// Tracked as each is looked at: a reload may have added an endpoint
	// since the list above was taken (its own OnConnect, next, subscribes
	// it).
	if err := unsubscribeUnwanted(c, app, func(src string) bool { return r.isTracked(src) || whole[src] }); err != nil {
		r.log.Warn("unsubscribing from endpoints no longer wanted", "error", err)
	}
	for _, ep := range eps {
		if err := ctx.Err(); err != nil {
			return errors.Join(append(errs, err)...)
		}
		if err := r.read(c, ep, since); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// read reads the state of ep (GET /endpoints/{tech}/{resource}) and
// applies it as a read that started at sequence number since.
func (r *Registry) read(c ari.Client, ep string, since uint64) error {
	tech, res, _ := strings.Cut(ep, "/")
	d, err := c.Endpoint().Data(ari.NewEndpointKey(tech, res))
	switch {
	case pbx.IsNotFound(err):
		r.log.Warn("operator endpoint does not exist in Asterisk; check the operator configuration", "endpoint", ep)
		r.applyRead(Observation{Endpoint: ep, Definite: true, Reason: "GET endpoint not found", HasChannels: true}, since)
	case err != nil:
		return fmt.Errorf("operators: read endpoint %s: %w", ep, err)
	default:
		r.applyRead(Observation{Endpoint: ep, Reachable: d.State == "online", Definite: true, Reason: "GET endpoint " + d.State,
			Channels: d.ChannelIDs, HasChannels: true}, since)
	}
	return nil
}

// NoChannel records that Asterisk could not create a channel to ep (an
// originate answered 500: no contact to call), as an observation that it
// is unreachable: the queue, which took the operator out of routing, and
// the registry agree, so that the endpoint's next event or read brings the
// operator back.
func (r *Registry) NoChannel(ep string) {
	r.apply(Observation{Endpoint: ep, Definite: true, Reason: "originate failed"})
}

// Reread reads the state of ep from Asterisk (GET
// /endpoints/{tech}/{resource}) and applies it, unless an event about it
// came meanwhile.
func (r *Registry) Reread(c ari.Client, ep string) error {
	r.mu.Lock()
	since := r.seq
	r.mu.Unlock()
	return r.read(c, ep, since)
}

// maxUnsubscribes bounds how many unsubscriptions one connect sends (one
// for each time a source was subscribed to and not given back).
const maxUnsubscribes = 1000

// subscribedTo returns the endpoint event sources the application is
// subscribed to ("PJSIP/op1001", or a technology "PJSIP"); none when it
// cannot be read (each subscription is then made as if new).
func subscribedTo(c ari.Client, app *ari.Key, log *slog.Logger) map[string]bool {
	d, err := c.Application().Data(app)
	if err != nil {
		log.Warn("the application's subscriptions could not be read", "error", err)
		return nil
	}
	had := make(map[string]bool, len(d.EndpointIDs))
	for _, id := range d.EndpointIDs {
		had[id] = true
	}
	return had
}

// unsubscribeUnwanted gives up, in full, every endpoint event source the
// application is subscribed to ("PJSIP/op1001", a technology "PJSIP" in
// its endpoint_ids, recording 12) that want refuses: an operator's
// endpoint no longer configured, a technology subscribed to for an
// endpoint that is there now (the admin added it). Their events, and
// those of their channels (the trunk's, for a technology), are not wanted.
// Asterisk counts subscriptions (one for each connect or reload that made
// one, by this process or an earlier one: res/stasis/app.c) and keeps
// them past the websocket while the application has any: each is given
// up.
func unsubscribeUnwanted(c ari.Client, app *ari.Key, want func(src string) bool) error {
	for range maxUnsubscribes {
		d, err := c.Application().Data(app)
		if err != nil {
			return fmt.Errorf("operators: read %s's subscriptions: %w", app.ID, err)
		}
		stale := ""
		for _, id := range d.EndpointIDs {
			if !want(id) {
				stale = id
				break
			}
		}
		if stale == "" {
			return nil
		}
		if err := c.Application().Unsubscribe(app, "endpoint:"+stale); err != nil {
			return fmt.Errorf("operators: unsubscribe %s from endpoint:%s: %w", app.ID, stale, err)
		}
	}
	return fmt.Errorf("operators: %s still subscribed to unwanted endpoints after %d unsubscriptions", app.ID, maxUnsubscribes)
}
