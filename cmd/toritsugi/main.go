// Command toritsugi is a telephone answering service that runs beside an
// Asterisk PBX and controls it over ARI.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	// The first signal starts the stop; a second one, as the signals'
	// default, ends the process at once (a stop that hangs).
	go func() { <-ctx.Done(); stop() }()
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "toritsugi:", err)
		var u usageError
		if errors.As(err, &u) {
			os.Exit(2)
		}
		os.Exit(1)
	}
}

type usageError struct{ msg string }

func (u usageError) Error() string { return u.msg }

const usage = `usage:
  toritsugi serve --config FILE      run the service
  toritsugi check-config [--reload] [--env-file ENV] FILE
                                     validate a configuration file (or --config FILE),
                                     with the variables of the service's environment file;
                                     --reload: as a reload takes it (systemctl reload)
  toritsugi check-db FILE            check a database file (a backup copy), read-only
  toritsugi demo [--listen ADDR]     run against a simulated PBX with sample calls
  toritsugi asterisk-conf --config FILE [--check DIR [--data-dir DIR]]
                                     print operators' pjsip.conf sections / check a config dir
  toritsugi hash-password < pw.txt   print an operator's password_hash (argon2id)
  toritsugi greeting IN.wav|mp3 OUT.sln|ulaw|wav
                                     convert a greeting to 8 kHz mono for Asterisk
  toritsugi healthcheck [--url URL]  exit 0 if a running toritsugi's /healthz answers 200
  toritsugi version                  print the version`

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return usageError{usage}
	}
	switch args[0] {
	case "serve":
		return serve(ctx, args[1:], stderr)
	case "demo":
		return demo(ctx, args[1:], stdout, stderr)
	case "asterisk-conf":
		return asteriskConf(args[1:], stdout, stderr)
	case "check-config":
		return checkConfig(args[1:], stdout, stderr)
	case "check-db":
		return checkDB(args[1:], stdout)
	case "greeting":
		return greeting(args[1:], stdout, stderr)
	case "hash-password":
		return hashPassword(os.Stdin, stdout)
	case "healthcheck":
		return healthcheck(ctx, args[1:], stdout, stderr)
	case "version":
		fmt.Fprintln(stdout, "toritsugi", versionString())
		return nil
	case "help", "-h", "--help":
		fmt.Fprintln(stdout, usage)
		return nil
	}
	return usageError{fmt.Sprintf("unknown command %q\n%s", args[0], usage)}
}
