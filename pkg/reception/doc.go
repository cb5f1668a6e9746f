// Package reception holds a client's reception rules and turns a call into a
// decision: block it, play the after-hours message, or accept it (as a VIP,
// a known contact or anyone), and whether it counts toward billing.
//
// Everything here is pure: no I/O, no clock. The caller passes the instant
// of the call, so each rule is a table test.
//
// Times: business hours are wall-clock minutes of the Hours' Location
// (Asia/Tokyo, a fixed UTC+9 zone when nil: Japan has no daylight saving
// time). Calendar days, public holidays and closures are dates of that
// location (jpholiday.Date, re-exported as Date).
//
// Precedence in Decide:
//  1. Block: the caller's most specific rule is a block rule, or the number
//     is withheld (非通知) and BlockWithheld is set. Never billable.
//  2. Hours: outside business hours (closures first, then public holidays,
//     then the weekly schedule) → AfterHours, not billable unless
//     Rules.BillAfterHours. VIP and known names are still reported.
//  3. Accept: billable; VIP and KnownName from the caller's rule if any.
package reception
