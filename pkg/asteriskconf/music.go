package asteriskconf

import (
	"os"
	"path/filepath"
	"strings"
)

// MusicClass is a music-on-hold class toritsugi's configuration names, and
// what names it (for the message: "queue.moh_class", "client acme").
type MusicClass struct {
	Name    string
	NamedBy string
}

// defaultDataDir is where a source-built Asterisk keeps its data (sounds,
// moh), unless asterisk.conf's [directories] astdatadir says otherwise.
const defaultDataDir = "/var/lib/asterisk"

// CheckMusic verifies, in the configuration directory dir (what goes to
// /etc/asterisk), that musiconhold.conf defines each class toritsugi's
// configuration names, and, on this machine, that each such class of mode
// files has a sound file in its directory (relative to Asterisk's data
// directory: dataDir, or else asterisk.conf's astdatadir, or else
// /var/lib/asterisk): run it where Asterisk runs, or give the directory
// Asterisk's data is in here (a container's mounted one). Asterisk plays
// a class it does not know, or could not load (a files class with no
// file), as "default" (res_musiconhold falls back to it); with no file in
// default's directory, callers in line hear silence, a dead line to them.
func CheckMusic(dir, dataDir string, classes []MusicClass) []error {
	c := checker{dir: dir, files: map[string]*File{}}
	c.load("musiconhold.conf")
	f := c.files["musiconhold.conf"]
	if f == nil {
		return c.errs
	}
	// Asterisk's data directory as Asterisk sees it, and where it is
	// here: the same, unless --data-dir says (a container's, mounted).
	astData := defaultDataDir
	if _, err := os.Stat(filepath.Join(dir, "asterisk.conf")); err == nil {
		c.load("asterisk.conf")
		if a := c.files["asterisk.conf"]; a != nil {
			for _, o := range a.Lookup("directories") {
				if v, ok := o.Get("astdatadir"); ok && v != "" {
					astData = v
				}
			}
		}
	}
	if dataDir == "" {
		dataDir = astData
	}
	// Not this machine's: the hold music cannot be looked for.
	files := true
	if fi, err := os.Stat(dataDir); err != nil || !fi.IsDir() {
		files = false
		c.problem(f.Name, 0, "Asterisk's data directory %s is not here, so the hold music was not looked for: run the check where Asterisk runs, or name the directory with --data-dir (with docker-compose.yml: --data-dir asterisk-media)", dataDir)
	}
	seen := map[string]bool{}
	for _, mc := range classes {
		key := strings.ToLower(mc.Name) // Asterisk compares class names ignoring case
		if seen[key] {
			continue
		}
		seen[key] = true
		o, ok := musicClass(f, mc.Name)
		if !ok {
			instead := "callers hear class default instead"
			if key == "default" {
				instead = "callers in line hear silence"
			}
			c.problem(f.Name, 0, "no class [%s], which %s names: %s", mc.Name, mc.NamedBy, instead)
			continue
		}
		mode, _ := o.Get("mode")
		if mode == "" {
			c.problem(f.Name, o.Line, "class [%s] has no mode: Asterisk does not load it", o.Name)
			continue
		}
		if !strings.EqualFold(mode, "files") || !files {
			continue // played by an application or a stream: nothing to look for here
		}
		d, _ := o.Get("directory")
		if d == "" {
			c.problem(f.Name, o.Line, "class [%s] has no directory: Asterisk does not load it", o.Name)
			continue
		}
		switch rest, under := strings.CutPrefix(filepath.Clean(d), filepath.Clean(astData)+"/"); {
		case !filepath.IsAbs(d):
			d = filepath.Join(dataDir, d)
		case under:
			// Written as Asterisk sees it (directory=/var/lib/asterisk/moh):
			// here, under --data-dir.
			d = filepath.Join(dataDir, rest)
		}
		if n, err := soundFiles(d); err != nil || n == 0 {
			why := "has no sound file"
			if err != nil {
				why = "cannot be read (" + err.Error() + ")"
			}
			hear := "callers in line hear silence"
			if key != "default" {
				hear = "Asterisk does not load the class, and callers hear class default instead"
			}
			c.problem(f.Name, o.Line, "class [%s] (which %s names): its directory %s %s, so %s: put 8 kHz .wav/.ulaw/.gsm files there (Asterisk's MOH-OPSOUND-WAV, README: With your own Asterisk)", o.Name, mc.NamedBy, d, why, hear)
		}
	}
	return c.errs
}

// musicClass returns the class named name (ignoring case, as Asterisk
// does): its first definition (Asterisk refuses a class that exists
// already).
func musicClass(f *File, name string) (Object, bool) {
	for _, o := range f.Objects() {
		if !o.Template && strings.EqualFold(o.Name, name) {
			return o, true
		}
	}
	return Object{}, false
}

// soundFiles counts the files in dir that Asterisk's files mode would
// play: regular files (a link to one too: Asterisk stats what it finds)
// with an extension, not hidden.
func soundFiles(dir string) (int, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, e := range entries {
		name := e.Name()
		if strings.HasPrefix(name, ".") || filepath.Ext(name) == "" {
			continue
		}
		if fi, err := os.Stat(filepath.Join(dir, name)); err == nil && fi.Mode().IsRegular() {
			n++
		}
	}
	return n, nil
}
