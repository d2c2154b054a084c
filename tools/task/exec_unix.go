//go:build unix

package main

import (
	"os"
	"syscall"
)

// execTask replaces the launcher with go-task in the same process, so the
// signals `go tool` forwards reach go-task once, as they would without the
// launcher, and go-task's exit status is the command's.
func execTask(exe string, args []string) error {
	return syscall.Exec(exe, append([]string{exe}, args...), os.Environ())
}
