// Package sipphone is a small SIP test telephone built on sipgo.
//
// It lets an installer exercise a toritsugi/Asterisk set-up from the outside:
//
//   - Caller places a trunk-side call (INVITE with an SDP offer), streams 20 ms
//     PCMU packets, optionally sends RFC 4733 DTMF and measures signalling and
//     media timings.
//   - OperatorPhone registers operator endpoints with digest authentication and
//     auto-answers, rejects or ignores the calls the PBX rings them with.
//   - LoadRunner drives many Caller calls at a given rate and concurrency and
//     summarises latencies and failures.
//
// Media is deliberately minimal: plain RTP over UDP, no RTCP, no jitter buffer.
package sipphone
