package main

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/toritsugi/toritsugi/pkg/aritest"
)

// TestDataAPIServedApart: with http.api_listen, the data API (every
// client's data, backups, erasure) is served on its own address, not on
// the console's, which answers its paths 404 saying where; the console
// and /healthz stay on the console's address.
func TestDataAPIServedApart(t *testing.T) {
	fake, err := aritest.New(aritest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = fake.Close() })
	dir := t.TempDir()
	path := filepath.Join(dir, "toritsugi.yaml")
	cfg := fmt.Sprintf(`ari: {url: %q, user: toritsugi, password: toritsugi}
http: {listen: 127.0.0.1:0, api_listen: "127.0.0.1:1", api_token: test-api-token-0123456789}
data_dir: %q
clients:
  - {id: acme, name: ACME, dids: ["03-1234-5678"], greeting: sound:hello-world}
operators:
  - {id: op1001, name: 佐藤, endpoint: PJSIP/op1001, clients: ["*"]}
`, fake.URL(), filepath.Join(dir, "data"))
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	apiLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := startService(t, path, serviceOptions{apiLn: apiLn})
	apiBase := "http://" + apiLn.Addr().String()
	for _, c := range []struct {
		url, want string
		code      int
	}{
		{base + "/api/v1/calls", "api_listen", 404},
		{base + "/api/v1/callbacks", "api_listen", 404},
		{apiBase + "/api/v1/calls", `"calls"`, 200},
		{apiBase + "/healthz", "", 200},
		{base + "/healthz", "", 200},
		{apiBase + "/api/v1/console/state", "", 404},
		{base + "/login", "", 200},
	} {
		if resp, body := apiGet(t, c.url); resp.StatusCode != c.code || !strings.Contains(string(body), c.want) {
			t.Errorf("GET %s: %d %.120s, want %d with %q", c.url, resp.StatusCode, body, c.code, c.want)
		}
	}
}
