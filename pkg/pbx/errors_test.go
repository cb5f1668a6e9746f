package pbx

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/CyCoreSystems/ari/v6"
	"github.com/CyCoreSystems/ari/v6/client/native"
)

// TestStatusCodeThroughLibraryWrapping checks that a 404 is recognised
// through every wrapping the ari library applies (eris, errDataGet) and ours.
func TestStatusCodeThroughLibraryWrapping(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusNotFound)
		fmt.Fprint(w, `{"message":"Playback not found"}`)
	}))
	defer srv.Close()
	c := native.New(&native.Options{URL: srv.URL, Username: "u", Password: "p", Application: "a"})
	_, err := c.Playback().Data(ari.NewKey(ari.PlaybackKey, "x"))
	if err == nil {
		t.Fatal("want an error")
	}
	if !IsNotFound(err) {
		t.Fatalf("IsNotFound(%v) = false through the library's wrapping", err)
	}
	if !IsNotFound(fmt.Errorf("ours: %w", err)) {
		t.Fatal("IsNotFound false through our own wrapping")
	}
	if err := c.Channel().Answer(ari.NewKey(ari.ChannelKey, "x")); StatusCode(err) != http.StatusNotFound {
		t.Fatalf("StatusCode(answer error) = %d, want 404", StatusCode(err))
	}
	if StatusCode(nil) != 0 || StatusCode(fmt.Errorf("plain")) != 0 {
		t.Fatal("StatusCode of a non-request error must be 0")
	}
}
