package main

import (
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
	fmt.Fprintf(stdout, "%s: ok\n", args[0])
	return nil
}
