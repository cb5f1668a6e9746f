package main

import (
	"errors"
	"fmt"
	"io"

	"github.com/toritsugi/toritsugi/pkg/config"
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
