package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/toritsugi/toritsugi/pkg/config"
	"github.com/toritsugi/toritsugi/pkg/relay"
	"github.com/toritsugi/toritsugi/pkg/store"

	bolt "go.etcd.io/bbolt"
)

// checkConfig validates a configuration file: "toritsugi check-config
// [--env-file ENV] FILE", or "--config FILE" as serve takes it. Each
// problem is printed on a line of its own (file:line:col: field: what),
// for an editor or grep to read, and the error only counts them. With
// --env-file, the variables of the service's environment file
// (EnvironmentFile=, README's /etc/toritsugi/env) are seen over this
// process's environment, as the service would see them, without setting
// them here. With --reload it checks as a reload takes the file (the
// systemd unit's ExecReload): it fails only on what serve refuses, a
// client's sound missing under sounds_dir a warning, as serve logs it.
func checkConfig(args []string, stdout, stderr io.Writer) error {
	const use = "usage: toritsugi check-config [--reload] [--env-file ENV] FILE (or --config FILE)"
	var file, envFile string
	envGiven, asReload := false, false
	for len(args) > 0 {
		arg := args[0]
		name, value, hasValue := strings.Cut(arg, "=")
		switch {
		case arg == "--reload" || arg == "-reload":
			asReload = true
		case name == "--config" || name == "-config" || name == "--env-file" || name == "-env-file":
			if !hasValue {
				if len(args) < 2 {
					return usageError{use}
				}
				value, args = args[1], args[1:]
			}
			if strings.HasSuffix(name, "env-file") {
				envFile, envGiven = value, true
			} else if file == "" {
				file = value
			} else {
				return usageError{use}
			}
		case strings.HasPrefix(arg, "-") || file != "":
			return usageError{use}
		default:
			file = arg
		}
		args = args[1:]
	}
	if file == "" || envGiven && envFile == "" {
		return usageError{use}
	}
	problems := func(file string, err error) error {
		var list []error
		if j, ok := err.(interface{ Unwrap() []error }); ok {
			list = j.Unwrap()
		} else {
			list = []error{err}
		}
		for _, e := range list {
			fmt.Fprintln(stderr, e)
		}
		if len(list) == 1 {
			return fmt.Errorf("%s: 1 problem", file)
		}
		return fmt.Errorf("%s: %d problems", file, len(list))
	}
	env := os.LookupEnv
	if envFile != "" {
		vars, err := readEnvFile(envFile)
		if err != nil {
			return problems(envFile, err)
		}
		env = func(k string) (string, bool) {
			if v, ok := vars[k]; ok {
				return v, true
			}
			return os.LookupEnv(k)
		}
	}
	cfg, err := config.LoadEnv(file, env)
	if err != nil {
		return problems(file, err)
	}
	sounds := checkSounds(cfg)
	if asReload {
		for _, e := range sounds {
			fmt.Fprintf(stdout, "warning: %s: %s\n", file, e)
		}
		sounds = nil
	}
	if errs := sounds; len(errs) > 0 {
		// No position is kept for a sound: the line names the file and
		// the client's field.
		for i, e := range errs {
			errs[i] = fmt.Errorf("%s: %w", file, e)
		}
		return problems(file, errors.Join(errs...))
	}
	for _, w := range cfg.Warnings {
		fmt.Fprintf(stdout, "warning: %s\n", w)
	}
	fmt.Fprintf(stdout, "%s: ok\n", file)
	return nil
}

// checkDB checks a database file read-only: "toritsugi check-db FILE".
func checkDB(args []string, stdout io.Writer) error {
	if len(args) != 1 {
		return usageError{"usage: toritsugi check-db FILE"}
	}
	setAside := 0
	sum, err := store.CheckFile(args[0], func(tx *bolt.Tx) error {
		var err error
		setAside, err = relay.CheckEntries(tx)
		return err
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s: ok (schema %d, %d call records, %d messages)\n", args[0], sum.Schema, sum.Calls, sum.Intakes)
	if setAside > 0 {
		fmt.Fprintf(stdout, "%s: relay entries found unreadable at a start, set aside in bucket relay_unreadable (never sent, kept 30 days; GET /api/v1/relay?state=unreadable lists them): %d\n", args[0], setAside)
	}
	return nil
}
