package api

import "testing"

// TestFreeBytes: the free space of a real directory is known and not nil;
// that of a directory that does not exist is not known.
func TestFreeBytes(t *testing.T) {
	if n, ok := freeBytes(t.TempDir()); !ok || n == 0 {
		t.Errorf("freeBytes(temp dir) = %d, %v", n, ok)
	}
	if _, ok := freeBytes("/nonexistent/toritsugi"); ok {
		t.Error("freeBytes of a missing directory reported a size")
	}
}
