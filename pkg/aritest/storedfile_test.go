package aritest

import (
	"net/http"
	"strconv"
	"testing"
)

// TestStoredRecordingFile: as Asterisk 22 serves GET
// /recordings/stored/{name}/file (resource_recordings.c): 200 with the
// file, Content-Type audio/<format> and its Content-Length; a recording it
// does not have, 404 {"message":"Recording not found"} (what toritsugi
// reads as deleted).
func TestStoredRecordingFile(t *testing.T) {
	s, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	s.AddStoredRecording("vm-1", "wav")
	s.AddStoredRecording("vm-2", "wav16")
	auth := basicAuth("toritsugi", "toritsugi")
	for name, ctype := range map[string]string{"vm-1": "audio/wav", "vm-2": "audio/wav16"} {
		resp, body := doRequest(t, s, http.MethodGet, "/recordings/stored/"+name+"/file", nil, nil, auth)
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != ctype ||
			resp.Header.Get("Content-Length") != strconv.Itoa(len(body)) || len(body) < 44 || string(body[:4]) != "RIFF" {
			t.Errorf("%s: %d %q length %q, %d bytes", name, resp.StatusCode, resp.Header.Get("Content-Type"), resp.Header.Get("Content-Length"), len(body))
		}
	}
	resp, body := doRequest(t, s, http.MethodGet, "/recordings/stored/vm-gone/file", nil, nil, auth)
	if resp.StatusCode != http.StatusNotFound || string(body) != `{"message":"Recording not found"}` {
		t.Errorf("missing: %d %s", resp.StatusCode, body)
	}
}
