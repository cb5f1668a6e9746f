// Package jst is Japan time, in which toritsugi shows every time it
// writes for people and integrators (CSV, JSON, mail, webhooks), whatever
// the machine's zone (UTC in a container).
package jst

import "time"

// Zone is Japan Standard Time: UTC+9 all year (Japan has no daylight
// saving time), fixed, so that nothing depends on the host's tzdata.
var Zone = time.FixedZone("JST", 9*60*60)

// In is t in Japan time; the zero time stays as it is (zero, in UTC), so
// that a time never set still reads as one.
func In(t time.Time) time.Time {
	if t.IsZero() {
		return t
	}
	return t.In(Zone)
}
