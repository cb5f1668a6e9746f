package main

import (
	"runtime/debug"
	"strings"
)

// version is set at build time with -ldflags "-X main.version=..." (make
// build and the Dockerfile set it from git describe).
var version = "dev"

// versionString is the version, or for a build that did not set it, the
// commit the go command embedded (a build in a git checkout), so that a
// binary can always say what it is.
func versionString() string {
	if version != "dev" {
		return version
	}
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return version
	}
	return buildVersion(info)
}

// buildVersion reads the module version or the commit from info.
func buildVersion(info *debug.BuildInfo) string {
	if v := info.Main.Version; v != "" && v != "(devel)" {
		return v
	}
	var rev, at string
	dirty := false
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.time":
			at = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	if rev == "" {
		return version
	}
	out := []string{"dev", rev[:min(12, len(rev))]}
	if dirty {
		out[1] += "-dirty"
	}
	if at != "" {
		out = append(out, at)
	}
	return strings.Join(out, " ")
}
