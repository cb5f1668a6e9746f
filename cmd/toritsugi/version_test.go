package main

import (
	"runtime/debug"
	"testing"
)

// TestBuildVersion: a binary not given its version at build time names
// the commit it was built from (a go build in a git checkout embeds it),
// or its module version when installed as a module.
func TestBuildVersion(t *testing.T) {
	tests := []struct {
		name string
		info debug.BuildInfo
		want string
	}{
		{"a module version", debug.BuildInfo{Main: debug.Module{Version: "v1.4.0"}}, "v1.4.0"},
		{"a commit", debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: []debug.BuildSetting{
			{Key: "vcs.revision", Value: "7166dafab1c2e3d4f5a6b7c8d9e0f1a2b3c4d5e6"}, {Key: "vcs.time", Value: "2026-11-29T23:46:52Z"}, {Key: "vcs.modified", Value: "false"}}},
			"dev 7166dafab1c2 2026-11-29T23:46:52Z"},
		{"a changed tree", debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: []debug.BuildSetting{
			{Key: "vcs.revision", Value: "7166daf"}, {Key: "vcs.modified", Value: "true"}}},
			"dev 7166daf-dirty"},
		{"nothing known", debug.BuildInfo{Main: debug.Module{Version: "(devel)"}}, "dev"},
	}
	for _, tt := range tests {
		if got := buildVersion(&tt.info); got != tt.want {
			t.Errorf("%s: %q, want %q", tt.name, got, tt.want)
		}
	}
}
