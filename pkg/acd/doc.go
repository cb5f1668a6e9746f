// Package acd is the pure routing core (automatic call distribution) of
// toritsugi: it decides which operator rings for which waiting caller.
//
// The core performs no I/O, starts no goroutine and never reads the clock:
// every input method takes the current time and returns the [Action]s the
// caller must execute, in order. Timers (ring timeout, wrap-up end, maximum
// wait, tier escalation, position announcements) are data inside the [Core];
// the owner arms one time.Timer on [Core.NextDeadline] and calls [Core.Tick]
// when it fires.
//
// A Core is NOT safe for concurrent use. Exactly one goroutine (the owner)
// must call it; everything else sends messages to that goroutine.
//
// # Routing rules
//
//   - Only an operator that is Available, reachable (softphone registered)
//     and holds no call is ever rung. Offline, paused, ringing, on-call and
//     wrap-up operators are never rung; an operator has at most one call.
//   - Waiting calls are served in one global order across clients: VIP calls
//     first, then the oldest enqueue time, then enqueue order. A call that
//     is re-adopted after a restart keeps its place because [Core.Enqueue]
//     accepts the original enqueue time.
//   - For a call, the eligible operators are those whose skills include the
//     call's client (or "*") with a tier the call has reached: tier t becomes
//     eligible once the caller waited (t-1) × EscalateAfter (all tiers at
//     once when EscalateAfter is zero), or at once when no operator of the
//     client in a lower tier is present: logged in, not paused and
//     reachable (one ringing, on a call or wrapping up is present: the
//     wait for them is what escalation is for). Among eligible idle operators the
//     core prefers those this call rang the fewest times (so a ring timeout
//     moves to the next operator), then the lowest tier, then the client's
//     strategy: longest idle (earliest idle-since, ties by operator id),
//     round robin (next operator id after the last one rung for the client,
//     wrapping), or ring all (every eligible idle operator of the lowest
//     tier with one this call has not rung yet rings, with the lower
//     tiers' again: the primaries first, then the backups with them; the
//     first answer wins and the others are cancelled; operators of that
//     tier or a lower one who become idle while a ring-all call rings
//     join it; the next caller may ring the higher tiers' operators the
//     first left).
//   - When one dispatch has several idle operators and several callers
//     (a [Core.Release] after a restart, a reload), calls still take
//     operators one at a time in the global order, but a call with more
//     than one eligible idle operator level with the strategy's choice
//     (as few rings of this call, the same tier) takes, among those, one
//     that is not the only eligible idle operator of another candidate
//     still to be served (the head of another client's or group's line,
//     ring-all heads included, or the next caller of its own line, that
//     rings nobody), preferring one no such candidate can take at all;
//     the strategy breaks ties, and decides alone when every such operator
//     is some candidate's only one. An older call thus never gets a higher
//     tier or an operator it rang more often than the strategy would have
//     given it, and a younger one is not left beside an idle operator
//     another could have done without. It is a one-step lookahead, not a
//     maximum matching (see lookahead.go), and a ring-all call still rings
//     every eligible idle operator of its tier.
//   - A ring that times out or fails counts as a consecutive no-answer for
//     the operator; after the client's AutoPauseAfter consecutive failures
//     the operator is paused with reason "no-answer". A ring that fails
//     because the channel could not be allocated marks the operator
//     unreachable until [Core.SetReachable] reports it registered again.
//   - After a ring that timed out, an eligible idle operator is rung again
//     at once while a call waits (preferring operators this call rang
//     fewer times).
//   - An operator whose ring the core gave up (CancelRing: timed out,
//     answered elsewhere, the caller gone, the operator paused, logged
//     out, unreachable, or put on a re-adopted call) is not rung again
//     until [Core.RingLegGone] reports that leg gone, or [LegGoneWait]
//     has passed should the report be lost: the next ring's originate
//     must not reach the phone while the old leg's hang-up is on its way
//     (a phone without call waiting refuses it). A refusal (Busy) of a
//     ring sent before the report (within a further LegGoneWait past
//     the bound) is no no-answer. So does an operator whose connected
//     call ended ([Core.CallEnded], [Core.CallEndedBeforeTalk]), for the
//     leg they answered, whatever their wrap-up: a caller who hangs up
//     first ends the call before that leg is hung up, and a 0 s wrap-up
//     (or one shorter than the hang-up) would free them with it still up.
//     [Core.AwaitLeg] gives the same wait for a leg the core did not
//     ring (found ringing or in the whisper after a restart, or of a
//     call re-adopted connected). In short: an operator is never rung
//     while a leg of theirs that is being hung up may be up, for at
//     most LegGoneWait.
//   - A phone that refused the ring (Busy: busy, declined,
//     do-not-disturb) rests [BusyRest] first, for every caller, so that
//     it is not rung in a loop as fast as it refuses; a ring that never
//     reached Asterisk (NotRung) rests [NotRungRest].
//   - [Core.Hold] stops all ringing until as many [Core.Release] calls:
//     after a restart, until every re-adopted call is back in line, so
//     that the first free operator goes to the oldest caller and not to
//     whoever was re-adopted first.
//   - A call found already connected after a restart is reported with
//     [Core.Occupy]: its operator is OnCall (never rung) until the call
//     ends, then wraps up as after any call.
//   - Pause and Logout during a call take effect after its wrap-up;
//     during wrap-up or ringing they take effect at once (a ring is
//     cancelled and the call offered to the next operator). So does a
//     skill change ([Core.UpsertOperator]) that takes the ringing call's
//     client from the operator (no no-answer counted); a connected call
//     goes on.
//
// # Expected wait
//
// Each client keeps the waits (enqueue → answer) of its last 10 answered
// calls. The expected wait announced to a caller is their simple moving
// average: sum(waits) / len(waits); it is zero (unknown) before the first
// answered call of that client.
package acd
