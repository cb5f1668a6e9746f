package asteriskconf

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCheckMusic: each class toritsugi names is in musiconhold.conf and,
// played from files, has one in its directory (relative ones under
// asterisk.conf's astdatadir); what is wrong is said with what callers
// hear.
func TestCheckMusic(t *testing.T) {
	const kit = "[default]\nmode = files\ndirectory = moh\n"
	for _, c := range []struct {
		name    string
		moh     string            // musiconhold.conf
		files   map[string]string // under the data directory
		classes []MusicClass
		want    string // "" none; else a text the one problem says (DATA: the data directory)
	}{
		{name: "the kit with its music", moh: kit, files: map[string]string{"moh/a.wav": "x"},
			classes: []MusicClass{{"default", "queue.moh_class"}}},
		{name: "the kit without music", moh: kit, files: map[string]string{"moh/.keep": ""},
			classes: []MusicClass{{"default", "queue.moh_class"}}, want: "musiconhold.conf:1: class [default] (which queue.moh_class names): its directory DATA/moh has no sound file, so callers in line hear silence"},
		{name: "no directory at all", moh: kit,
			classes: []MusicClass{{"default", "queue.moh_class"}}, want: "DATA/moh cannot be read"},
		{name: "a file without an extension is not played", moh: kit, files: map[string]string{"moh/README": "x"},
			classes: []MusicClass{{"default", "queue.moh_class"}}, want: "has no sound file"},
		{name: "a client's class missing", moh: kit, files: map[string]string{"moh/a.wav": "x"},
			classes: []MusicClass{{"default", "queue.moh_class"}, {"acme", "client acme's queue.moh_class"}},
			want:    "musiconhold.conf: no class [acme], which client acme's queue.moh_class names: callers hear class default instead"},
		{name: "default missing", moh: "[other]\nmode = files\ndirectory = moh\n", files: map[string]string{"moh/a.wav": "x"},
			classes: []MusicClass{{"default", "queue.moh_class"}}, want: "no class [default], which queue.moh_class names: callers in line hear silence"},
		{name: "names ignore case, as Asterisk's", moh: "[Acme]\nmode = files\ndirectory = /ABS\n", files: map[string]string{"abs/a.ulaw": "x"},
			classes: []MusicClass{{"acme", "client acme's queue.moh_class"}}},
		{name: "the first definition counts", moh: "[acme]\nmode = files\ndirectory = empty\n[acme]\nmode = files\ndirectory = moh\n", files: map[string]string{"moh/a.wav": "x", "empty/.keep": ""},
			classes: []MusicClass{{"acme", "client acme's queue.moh_class"}}, want: "DATA/empty has no sound file"},
		{name: "a class of an application is not looked into", moh: "[default]\nmode = custom\napplication = /usr/bin/streamer\n",
			classes: []MusicClass{{"default", "queue.moh_class"}}},
		{name: "no mode", moh: "[default]\ndirectory = moh\n", files: map[string]string{"moh/a.wav": "x"},
			classes: []MusicClass{{"default", "queue.moh_class"}}, want: "class [default] has no mode: Asterisk does not load it"},
		{name: "a template is no class", moh: "[default](!)\nmode = files\ndirectory = moh\n", files: map[string]string{"moh/a.wav": "x"},
			classes: []MusicClass{{"default", "queue.moh_class"}}, want: "no class [default]"},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir, data := t.TempDir(), t.TempDir()
			moh := strings.ReplaceAll(c.moh, "/ABS", filepath.Join(data, "abs"))
			write(t, filepath.Join(dir, "musiconhold.conf"), moh)
			write(t, filepath.Join(dir, "asterisk.conf"), "[options]\nverbose = 3\n[directories]\nastdatadir => "+data+"\n")
			for name, text := range c.files {
				write(t, filepath.Join(data, name), text)
			}
			errs := CheckMusic(dir, "", c.classes)
			if c.want == "" {
				if len(errs) != 0 {
					t.Fatalf("CheckMusic = %v, want nothing", errs)
				}
				return
			}
			if len(errs) != 1 {
				t.Fatalf("CheckMusic = %v, want one problem", errs)
			}
			var p *Problem
			if !errors.As(errs[0], &p) || !errors.Is(errs[0], ErrCheck) {
				t.Errorf("%v is not a *Problem", errs[0])
			}
			if want := strings.ReplaceAll(c.want, "DATA", data); !strings.Contains(errs[0].Error(), want) {
				t.Errorf("CheckMusic = %q, want it to say %q", errs[0], want)
			}
		})
	}
}

// TestCheckMusicDataDirDefault: without asterisk.conf's astdatadir, a
// relative directory is under /var/lib/asterisk, where a source-built
// Asterisk looks.
func TestCheckMusicDataDirDefault(t *testing.T) {
	dir := t.TempDir()
	write(t, filepath.Join(dir, "musiconhold.conf"), "[default]\nmode = files\ndirectory = toritsugi-test-no-such-dir\n")
	errs := CheckMusic(dir, "", []MusicClass{{"default", "queue.moh_class"}})
	if _, err := os.Stat("/var/lib/asterisk"); err != nil {
		// Not an Asterisk machine: said so, and nothing looked for.
		if len(errs) != 1 || !strings.Contains(errs[0].Error(), "Asterisk's data directory /var/lib/asterisk is not here") {
			t.Fatalf("CheckMusic = %v, want /var/lib/asterisk said not here", errs)
		}
		return
	}
	if len(errs) != 1 || !strings.Contains(errs[0].Error(), "/var/lib/asterisk/toritsugi-test-no-such-dir cannot be read") {
		t.Fatalf("CheckMusic = %v, want the directory under /var/lib/asterisk said unreadable", errs)
	}
}

// TestCheckMusicDataDir: --data-dir names where Asterisk's data is on this
// machine (a container's mounted directory), over asterisk.conf's; a data
// directory that is not here is said, and no class's files are looked
// for (each would be missing).
func TestCheckMusicDataDir(t *testing.T) {
	dir, data := t.TempDir(), t.TempDir()
	write(t, filepath.Join(dir, "musiconhold.conf"), "[default]\nmode = files\ndirectory = moh\n[acme]\nmode = files\ndirectory = acme\n")
	write(t, filepath.Join(dir, "asterisk.conf"), "[directories]\nastdatadir => /nonexistent-asterisk-data\n")
	write(t, filepath.Join(data, "moh", "a.wav"), "x")
	classes := []MusicClass{{"default", "queue.moh_class"}, {"acme", "client acme's queue.moh_class"}}
	errs := CheckMusic(dir, "", classes)
	if len(errs) != 1 || !strings.Contains(errs[0].Error(), "Asterisk's data directory /nonexistent-asterisk-data is not here, so the hold music was not looked for") {
		t.Fatalf("CheckMusic with a data directory not here = %v, want that said once", errs)
	}
	errs = CheckMusic(dir, data, classes)
	if len(errs) != 1 || !strings.Contains(errs[0].Error(), "class [acme] (which client acme's queue.moh_class names): its directory "+filepath.Join(data, "acme")+" cannot be read") ||
		!strings.Contains(errs[0].Error(), "Asterisk does not load the class, and callers hear class default instead") {
		t.Fatalf("CheckMusic with --data-dir = %v, want acme's missing directory said, default found", errs)
	}
}

// TestCheckMusicDataDirAbsoluteDirectory: a class's directory written as
// Asterisk sees it (directory = /var/lib/asterisk/moh, as many installs
// write it) is looked for under --data-dir (docker-compose.yml mounts
// ./asterisk-media/moh there); another absolute one is looked for as it is.
func TestCheckMusicDataDirAbsoluteDirectory(t *testing.T) {
	dir, data, elsewhere := t.TempDir(), t.TempDir(), t.TempDir()
	write(t, filepath.Join(dir, "musiconhold.conf"), "[default]\nmode = files\ndirectory = /var/lib/asterisk/moh\n[acme]\nmode = files\ndirectory = "+elsewhere+"\n")
	write(t, filepath.Join(data, "moh", "a.wav"), "x")
	write(t, filepath.Join(elsewhere, "b.wav"), "x")
	if errs := CheckMusic(dir, data, []MusicClass{{"default", "queue.moh_class"}, {"acme", "client acme's queue.moh_class"}}); len(errs) != 0 {
		t.Fatalf("CheckMusic with --data-dir = %v, want nothing (default's music in DATA/moh, acme's where it says)", errs)
	}
}

// TestCheckMusicFollowsLinks: a link to a sound file plays (Asterisk stats
// what it finds); a link to nothing does not.
func TestCheckMusicFollowsLinks(t *testing.T) {
	for _, c := range []struct {
		name, target string
		want         int
	}{{"a link to a file", "real.wav", 0}, {"a dangling link", "missing.wav", 1}} {
		t.Run(c.name, func(t *testing.T) {
			dir, data := t.TempDir(), t.TempDir()
			write(t, filepath.Join(dir, "musiconhold.conf"), "[default]\nmode = files\ndirectory = moh\n")
			write(t, filepath.Join(data, "store", "real.wav"), "x")
			if err := os.MkdirAll(filepath.Join(data, "moh"), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(filepath.Join(data, "store", c.target), filepath.Join(data, "moh", "music.wav")); err != nil {
				t.Fatal(err)
			}
			if errs := CheckMusic(dir, data, []MusicClass{{"default", "queue.moh_class"}}); len(errs) != c.want {
				t.Fatalf("CheckMusic = %v, want %d problems", errs, c.want)
			}
		})
	}
}

func write(t *testing.T, path, text string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}
