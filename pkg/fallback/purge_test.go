package fallback_test

import (
	"strings"
	"testing"
	"time"
)

// TestOldLineReadAgainAfterPurge: call_record_retention_days purged
// the record of a refused call; the fallback file's same lines are then
// read again (a new inode, as in TestScanOldLinesReadAgainAreNotRelayed).
// The call is stored a second time (KnowsCall finds no record), counted a
// second time in its month's counts (the billing the purge promised not
// to touch) and handed on to the relay as a new missed call.
func TestOldLineReadAgainAfterPurge(t *testing.T) {
	e := newScanEnv(t)
	at := time.Unix(1795900000, 0)
	now := at.Add(100 * 24 * time.Hour)
	e.r.Now = func() time.Time { return now }
	e.write(line("u1", "0312345678"))
	e.scan(1)
	before, err := e.st.MonthlyCounts("acme", at)
	if err != nil || before.Total != 1 {
		t.Fatalf("counts %+v %v", before, err)
	}
	if n, err := e.st.PurgeCalls(now.Add(-62*24*time.Hour), nil, nil); err != nil || n != 1 {
		t.Fatalf("PurgeCalls = %d, %v", n, err)
	}
	e.rewrite() // same lines, a new inode
	n, err := e.r.Scan(t.Context())
	after, _ := e.st.MonthlyCounts("acme", at)
	if n != 0 || after.Total != 1 || strings.Join(e.told, ",") != "fallback-u1" {
		t.Fatalf("the purged call read again: stored %d (%v), month counts %d (was %d), handed on %v; want nothing stored, counted or handed on again", n, err, after.Total, before.Total, e.told)
	}
}
