package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/term"

	"github.com/toritsugi/toritsugi/pkg/password"
)

// hashPassword reads a password (one line) from stdin and prints the
// argon2id hash to put in an operator's password_hash. At a terminal it
// asks twice, without showing what is typed.
func hashPassword(stdin io.Reader, stdout io.Writer) error {
	var pw string
	if f, ok := stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		var err error
		if pw, err = promptPassword(int(f.Fd())); err != nil {
			return err
		}
	} else {
		line, err := bufio.NewReader(stdin).ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return fmt.Errorf("hash-password: read: %w", err)
		}
		pw = strings.TrimRight(line, "\r\n")
	}
	if len(pw) < 8 {
		return usageError{"hash-password: give a password of at least 8 characters on standard input"}
	}
	h, err := password.Hash(pw)
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, h)
	return nil
}

// promptPassword asks for the password twice at the terminal fd, echo off
// (x/term: the terminal modes differ between systems, and a password
// shown on the screen is one a colleague reads).
func promptPassword(fd int) (string, error) {
	read := func(prompt string) (string, error) {
		fmt.Fprint(os.Stderr, prompt)
		b, err := term.ReadPassword(fd)
		fmt.Fprintln(os.Stderr)
		if err != nil {
			return "", fmt.Errorf("hash-password: read: %w", err)
		}
		return string(b), nil
	}
	pw, err := read("Password (at least 8 characters): ")
	if err != nil {
		return "", err
	}
	again, err := read("Again: ")
	if err != nil {
		return "", err
	}
	if again != pw {
		return "", usageError{"hash-password: the two passwords differ"}
	}
	return pw, nil
}
