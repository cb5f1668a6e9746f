package console

import "time"

// HoldPasswordChecks takes every password-check slot, as a flood of
// logins would, until release is called.
func HoldPasswordChecks(c *Console) (release func()) {
	n := cap(c.kdf)
	for range n {
		c.kdf <- struct{}{}
	}
	return func() {
		for range n {
			<-c.kdf
		}
	}
}

// OverHTTPS is overHTTPS, for the external tests.
var OverHTTPS = overHTTPS

// SetKeepAlive sets how often c's event streams send a ping.
func SetKeepAlive(c *Console, d time.Duration) { c.keepAlive = d }

// OpenStreams is how many event streams of operator opID are open.
func OpenStreams(c *Console, opID string) int { return len(c.hub.streamSessions(opID)) }
