package main

import (
	"errors"
	"fmt"
	"io"

	"github.com/toritsugi/toritsugi/pkg/config"
	"github.com/toritsugi/toritsugi/pkg/store"
)

func checkConfig(args []string, stdout io.Writer) error {
	if len(args) != 1 {
		return usageError{"usage: toritsugi check-config FILE"}
	}
	if err := config.Check(args[0]); err != nil {
		return err
	}
	cfg, err := config.Load(args[0])
	if err != nil {
		return err
	}
	if errs := checkSounds(cfg); len(errs) > 0 {
		return errors.Join(errs...)
	}
	for _, w := range cfg.Warnings {
		fmt.Fprintf(stdout, "warning: %s\n", w)
	}
	fmt.Fprintf(stdout, "%s: ok\n", args[0])
	return nil
}

// checkDB checks a database file read-only: "toritsugi check-db FILE".
func checkDB(args []string, stdout io.Writer) error {
	if len(args) != 1 {
		return usageError{"usage: toritsugi check-db FILE"}
	}
	sum, err := store.CheckFile(args[0])
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s: ok (schema %d, %d call records, %d messages)\n", args[0], sum.Schema, sum.Calls, sum.Intakes)
	return nil
}
