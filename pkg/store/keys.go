package store

import (
	"encoding/binary"
	"time"

	japan "github.com/toritsugi/toritsugi/pkg/internal/jst"
)

// Key layouts:
//
//	calls            id                               → CallRecord JSON
//	calls_by_time    ts(8) id                         → empty
//	calls_by_client  clientID 0x00 ts(8) id           → empty
//	counts           clientID 0x00 "YYYY-MM" (JST)    → monthCounts JSON
//
// ts is StartedAt in Unix nanoseconds with the sign bit flipped, big
// endian, so byte order is time order (before 1970 too) and a time range
// is one cursor seek. Client ids never contain NUL (validated on write).

// tsLen is the length of an encoded timestamp.
const tsLen = 8

// tsKey encodes t for ordered keys. t must lie in [minStart, maxStart].
func tsKey(t time.Time) []byte {
	b := make([]byte, tsLen)
	binary.BigEndian.PutUint64(b, uint64(t.UnixNano())^(1<<63))
	return b
}

// timeKey is the calls_by_time key of a record.
func timeKey(started time.Time, id string) []byte {
	return append(tsKey(started), id...)
}

// clientPrefix is the prefix shared by every per-client key of clientID.
func clientPrefix(clientID string) []byte {
	b := make([]byte, 0, len(clientID)+1+tsLen)
	return append(append(b, clientID...), 0)
}

// clientKey is the calls_by_client key of a record.
func clientKey(clientID string, started time.Time, id string) []byte {
	return append(append(clientPrefix(clientID), tsKey(started)...), id...)
}

// jst is Japan Standard Time. Japan has kept UTC+9 without daylight saving
// since 1951, so a fixed zone is exact and needs no tzdata on the host.
var jst = japan.Zone

// monthOf names the Tokyo calendar month containing t.
func monthOf(t time.Time) string {
	return t.In(jst).Format("2006-01")
}

// countKey is the counts key of clientID for the month containing t.
func countKey(clientID string, t time.Time) []byte {
	return append(clientPrefix(clientID), monthOf(t)...)
}

// inKeyRange reports whether t can be encoded by tsKey.
func inKeyRange(t time.Time) bool {
	return !t.Before(minStart) && !t.After(maxStart)
}
