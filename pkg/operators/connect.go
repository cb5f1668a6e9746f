package operators

import (
	"context"
	"errors"
	"fmt"
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
	eps, since := r.tracked()
	var errs []error
	app := ari.NewKey(ari.ApplicationKey, c.ApplicationName())
	whole := map[string]bool{}
	for _, ep := range eps {
		if err := ctx.Err(); err != nil {
			return errors.Join(append(errs, err)...)
		}
		err := c.Application().Subscribe(app, "endpoint:"+ep)
		if pbx.StatusCode(err) == http.StatusUnprocessableEntity {
			// "Event source does not exist" (recording 12): the read
			// below finds it missing and says so.
			tech, _, _ := strings.Cut(ep, "/")
			if whole[tech] {
				continue
			}
			whole[tech] = true
			err = c.Application().Subscribe(app, "endpoint:"+tech)
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
	if err := dropTechnologies(c, app, whole); err != nil {
		r.log.Warn("unsubscribing from a technology's endpoints", "error", err)
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

// maxUnsubscribes bounds how many times one technology is unsubscribed
// from at a connect (one for each connect that subscribed to it).
const maxUnsubscribes = 1000

// dropTechnologies gives up every technology the application is
// subscribed to whole ("PJSIP" in its endpoint_ids) but keep: subscribed
// to for an endpoint that is there now (the admin added it), at this
// connect or an earlier one, by this process or an earlier one. Its
// trunk's events are not wanted. Asterisk counts subscriptions (one per
// connect that made it, res/stasis/app.c) and keeps them past the
// websocket while the application has any: each is given up.
func dropTechnologies(c ari.Client, app *ari.Key, keep map[string]bool) error {
	for range maxUnsubscribes {
		d, err := c.Application().Data(app)
		if err != nil {
			return fmt.Errorf("operators: read %s's subscriptions: %w", app.ID, err)
		}
		stale := ""
		for _, id := range d.EndpointIDs {
			if !strings.Contains(id, "/") && !keep[id] {
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
	return fmt.Errorf("operators: %s still subscribed to a whole technology after %d unsubscriptions", app.ID, maxUnsubscribes)
}
