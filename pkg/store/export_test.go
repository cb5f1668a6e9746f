package store

import "time"

// SetPurgeBatch sets how many intakes one purge transaction deletes, for
// a test; the returned function restores it.
func SetPurgeBatch(n int) (restore func()) {
	old := purgeBatch
	purgeBatch = n
	return func() { purgeBatch = old }
}

// SetCallerScanLimit sets how many of a number's intakes
// IntakesForCallerWhere reads, until the returned function restores it.
func SetCallerScanLimit(n int) (restore func()) {
	old := callerScanLimit
	callerScanLimit = n
	return func() { callerScanLimit = old }
}

// SetMaxChangeScan sets how many feed entries one CallChanges reads, until
// the returned function restores it.
func SetMaxChangeScan(n int) (restore func()) {
	old := maxChangeScan
	maxChangeScan = n
	return func() { maxChangeScan = old }
}

// SetNow sets the store's clock (the time of purge notices and of their
// expiry), for a test.
func (s *Store) SetNow(now func() time.Time) { s.now = now }
