package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/toritsugi/toritsugi/pkg/asteriskconf"
	"github.com/toritsugi/toritsugi/pkg/config"
)

// asteriskConf prints the pjsip.conf sections of the configured operators
// (operators are defined once, in toritsugi's YAML) and, with --check DIR,
// checks an Asterisk configuration directory against the YAML.
// Passwords come from TORITSUGI_SIP_PASSWORD_<ID> (e.g.
// TORITSUGI_SIP_PASSWORD_OP1001); missing ones print as CHANGE_ME_<id>.
func asteriskConf(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("asterisk-conf", flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := fs.String("config", "", "toritsugi configuration file (YAML)")
	check := fs.String("check", "", "check this Asterisk config directory (e.g. /etc/asterisk) instead of printing")
	dataDir := fs.String("data-dir", "", "with --check: Asterisk's data directory here (default asterisk.conf's astdatadir, or /var/lib/asterisk), where its hold music is looked for")
	if err := fs.Parse(args); err != nil {
		return usageError{err.Error()}
	}
	if *path == "" {
		return usageError{"asterisk-conf: --config FILE is required"}
	}
	cfg, err := config.Load(*path)
	if err != nil {
		return err
	}
	ops := make([]asteriskconf.Operator, 0, len(cfg.Operators))
	for _, op := range cfg.Operators {
		ops = append(ops, asteriskconf.Operator{ID: op.ID, Name: op.Name, Endpoint: op.Endpoint})
	}
	if *check != "" {
		errs := asteriskconf.Check(*check, cfg.ARI.App, ops)
		errs = append(errs, asteriskconf.CheckMusic(*check, *dataDir, musicClasses(cfg))...)
		if len(errs) > 0 {
			return errors.Join(errs...)
		}
		fmt.Fprintf(stdout, "%s agrees with %s\n", *check, *path)
		return nil
	}
	var missing []string
	err = asteriskconf.RenderOperators(stdout, ops, func(id string) string {
		env := "TORITSUGI_SIP_PASSWORD_" + strings.ToUpper(id)
		pw := os.Getenv(env)
		if pw == "" {
			missing = append(missing, env)
		}
		return pw
	})
	if err == nil && len(missing) > 0 {
		fmt.Fprintf(stderr, "asterisk-conf: no %s: those operators got a CHANGE_ME placeholder password; set them and print again\n", strings.Join(missing, ", "))
	}
	return err
}

// musicClasses lists the music-on-hold classes cfg names: the queue's,
// and each client's where it has its own.
func musicClasses(cfg *config.Config) []asteriskconf.MusicClass {
	out := []asteriskconf.MusicClass{{Name: cfg.Queue.MOHClass, NamedBy: "queue.moh_class"}}
	for i := range cfg.Clients {
		c := &cfg.Clients[i]
		if name := c.QueueSettings().MOHClass; name != cfg.Queue.MOHClass {
			out = append(out, asteriskconf.MusicClass{Name: name, NamedBy: "client " + c.ID + "'s queue.moh_class"})
		}
	}
	return out
}
