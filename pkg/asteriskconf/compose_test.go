package asteriskconf

import (
	"os"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// composeFile is the part of docker-compose.yml the deployment relies on.
type composeFile struct {
	Services map[string]struct {
		Image       string            `yaml:"image"`
		Build       any               `yaml:"build"`
		NetworkMode string            `yaml:"network_mode"`
		Command     []string          `yaml:"command"`
		Environment map[string]string `yaml:"environment"`
		Volumes     []string          `yaml:"volumes"`
	} `yaml:"services"`
	Volumes map[string]any `yaml:"volumes"`
}

func TestDockerCompose(t *testing.T) {
	b, err := os.ReadFile("../../docker-compose.yml")
	if err != nil {
		t.Fatal(err)
	}
	var c composeFile
	if err := yaml.Unmarshal(b, &c); err != nil {
		t.Fatalf("docker-compose.yml: %v", err)
	}
	ast, ok := c.Services["asterisk"]
	if !ok {
		t.Fatal("no asterisk service")
	}
	if !strings.HasPrefix(ast.Image, "andrius/asterisk:22.") {
		t.Errorf("asterisk image = %q, want a pinned Asterisk 22 tag", ast.Image)
	}
	if ast.NetworkMode != "host" {
		t.Errorf("asterisk network_mode = %q, want host (RTP)", ast.NetworkMode)
	}
	if !slices.Contains(ast.Volumes, "./asterisk-conf:/etc/asterisk:ro") {
		t.Errorf("asterisk volumes %q lack ./asterisk-conf:/etc/asterisk:ro", ast.Volumes)
	}
	// astdb.sqlite3 (the softphones' registered contacts: res_pjsip's
	// "contact" objects are kept in the astdb) outlives the container.
	if name := namedVolumeAt(ast.Volumes, "/var/lib/asterisk"); name == "" {
		t.Errorf("asterisk volumes %q: want a named volume on /var/lib/asterisk (astdb: the registered contacts)", ast.Volumes)
	} else if _, ok := c.Volumes[name]; !ok {
		t.Errorf("named volume %q is not declared under volumes:", name)
	}

	tor, ok := c.Services["toritsugi"]
	if !ok {
		t.Fatal("no toritsugi service")
	}
	if tor.Build == nil {
		t.Error("toritsugi is not built from the repository")
	}
	if tor.NetworkMode != "host" {
		t.Errorf("toritsugi network_mode = %q, want host (ARI on 127.0.0.1:8088)", tor.NetworkMode)
	}
	if want := []string{"serve", "--config", "/etc/toritsugi/toritsugi.yaml"}; !slices.Equal(tor.Command, want) {
		t.Errorf("toritsugi command = %q, want %q", tor.Command, want)
	}
	if _, ok := tor.Environment["TORITSUGI_ARI_PASSWORD"]; !ok {
		t.Error("toritsugi has no TORITSUGI_ARI_PASSWORD")
	}
	// The configuration's directory, not the file alone: an editor that
	// saves a new file would leave the container reading the old one.
	if !slices.Contains(tor.Volumes, "./toritsugi.d:/etc/toritsugi:ro") {
		t.Errorf("toritsugi volumes %q lack the configuration directory ./toritsugi.d:/etc/toritsugi:ro", tor.Volumes)
	}
	if name := namedVolumeAt(tor.Volumes, "/var/lib/toritsugi"); name == "" {
		t.Errorf("toritsugi volumes %q: want a named volume on /var/lib/toritsugi", tor.Volumes)
	} else if _, ok := c.Volumes[name]; !ok {
		t.Errorf("named volume %q is not declared under volumes:", name)
	}
}

// namedVolumeAt returns the named volume (not a host path) mounted
// read-write at path in a service's volumes, "" when there is none.
func namedVolumeAt(volumes []string, path string) string {
	for _, v := range volumes {
		if name, ok := strings.CutSuffix(v, ":"+path); ok && name != "" && !strings.ContainsAny(name, "./") {
			return name
		}
	}
	return ""
}

func TestDockerfile(t *testing.T) {
	b, err := os.ReadFile("../../Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	for _, want := range []string{"FROM golang:1.26 AS build", "./cmd/toritsugi", "FROM gcr.io/distroless/static", "/var/lib/toritsugi"} {
		if !strings.Contains(s, want) {
			t.Errorf("Dockerfile lacks %q", want)
		}
	}
}
