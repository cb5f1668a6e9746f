package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/toritsugi/toritsugi/pkg/console"
)

// hashPassword reads a password (one line) from stdin and prints the
// argon2id hash to put in an operator's password_hash.
func hashPassword(stdin io.Reader, stdout io.Writer) error {
	if f, ok := stdin.(*os.File); ok {
		if fi, err := f.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
			// A terminal: say what is awaited, instead of seeming to hang.
			fmt.Fprint(os.Stderr, "Password (at least 8 characters; it shows as you type: clear the screen after, or pipe it in: toritsugi hash-password < file): ")
		}
	}
	line, err := bufio.NewReader(stdin).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("hash-password: read: %w", err)
	}
	pw := strings.TrimRight(line, "\r\n")
	if len(pw) < 8 {
		return usageError{"hash-password: give a password of at least 8 characters on standard input"}
	}
	h, err := console.HashPassword(pw)
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, h)
	return nil
}
