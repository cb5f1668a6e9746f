// Command toritsugi-phone is a SIP test phone for toritsugi installations:
// place trunk-side calls, run operator endpoints, or drive a call load.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
)

const usage = `usage: toritsugi-phone <command> [flags]

commands:
  call       place one trunk-side call and print timings
  operators  register operator endpoints and answer their calls
  load       run a call rate/concurrency profile

Run "toritsugi-phone <command> -h" for the command's flags.
`

// errUsage marks bad command lines (exit code 2).
var errUsage = errors.New("usage")

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	switch {
	case err == nil:
	case errors.Is(err, errUsage), errors.Is(err, flag.ErrHelp):
		os.Exit(2)
	default:
		fmt.Fprintln(os.Stderr, "toritsugi-phone:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return errUsage
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	switch args[0] {
	case "call":
		return runCall(ctx, args[1:], stdout, stderr, log)
	case "operators":
		return runOperators(ctx, args[1:], stdout, stderr, log)
	case "load":
		return runLoad(ctx, args[1:], stdout, stderr, log)
	case "-h", "--help", "help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(stderr, usage)
	return fmt.Errorf("%w: unknown command %q", errUsage, args[0])
}
