package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/toritsugi/toritsugi/pkg/console"
)

// hashPassword reads a password (one line) from stdin and prints the
// argon2id hash to put in an operator's password_hash.
func hashPassword(stdin io.Reader, stdout io.Writer) error {
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
