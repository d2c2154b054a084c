//go:build !unix

package main

import (
	"errors"
	"os"
	"os/exec"
	"os/signal"
)

// execTask runs go-task as a child and exits with its status. The console
// sends Ctrl-C to go-task as well, so the launcher only ignores it.
func execTask(exe string, args []string) error {
	signal.Notify(make(chan os.Signal, 1), os.Interrupt)
	cmd := exec.Command(exe, args...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	err := cmd.Run()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		os.Exit(exit.ExitCode())
	}
	if err != nil {
		return err
	}
	os.Exit(0)
	return nil
}
