// Command task runs go-task (github.com/go-task/task/v3), pinned in
// tools/task.mod, so that `go tool task …` works through the app's go.mod
// while go-task's large dependency tree (cloud SDKs, a TUI kit, a shell
// interpreter) stays out of the app's module graph.
//
// `go tool NAME` only sees the tool lines of the go.mod it runs with, so the
// app's go.mod names this small launcher rather than go-task itself. The
// launcher builds go-task from tools/task.mod into bin/task, again only when
// tools/task.mod, tools/task.sum or the Go version changed, and then replaces
// itself with it, so go-task gets the arguments, signals and exit status just
// as if `go tool` had started it.
package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
)

const taskPkg = "github.com/go-task/task/v3/cmd/task"

func main() {
	exe, err := taskBinary()
	if err != nil {
		fmt.Fprintln(os.Stderr, "go tool task:", err)
		os.Exit(1)
	}
	if err := execTask(exe, os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "go tool task:", err)
		os.Exit(1)
	}
}

// taskBinary returns the path of go-task built from tools/task.mod, building
// it first when bin/task is missing or was built from other inputs.
func taskBinary() (string, error) {
	// `go tool` puts its own toolchain's bin directory first in PATH, so this
	// is the go command that started the launcher.
	goCmd, err := exec.LookPath("go")
	if err != nil {
		return "", err
	}
	out, err := exec.Command(goCmd, "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return "", errors.New("no go.mod here: run it inside the emporium module")
	}
	root := filepath.Dir(gomod)
	modfile := filepath.Join(root, "tools", "task.mod")
	exe := filepath.Join(root, "bin", "task")
	if runtime.GOOS == "windows" {
		exe += ".exe"
	}
	stampFile := exe + ".stamp"

	stamp, err := inputsDigest(modfile)
	if err != nil {
		return "", err
	}
	if old, err := os.ReadFile(stampFile); err == nil && bytes.Equal(old, stamp) {
		if _, err := os.Stat(exe); err == nil {
			return exe, nil
		}
	}
	fmt.Fprintln(os.Stderr, "go tool task: building go-task from tools/task.mod into bin/")
	build := exec.Command(goCmd, "build", "-modfile="+modfile, "-o", exe, taskPkg)
	build.Dir = root
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		return "", fmt.Errorf("build go-task: %w", err)
	}
	if err := os.WriteFile(stampFile, stamp, 0o644); err != nil {
		return "", err
	}
	return exe, nil
}

// inputsDigest identifies what bin/task is built from: the Go version and
// the contents of tools/task.mod and tools/task.sum.
func inputsDigest(modfile string) ([]byte, error) {
	h := sha256.New()
	fmt.Fprintf(h, "%s %s/%s\n", runtime.Version(), runtime.GOOS, runtime.GOARCH)
	sumfile := strings.TrimSuffix(modfile, ".mod") + ".sum"
	for _, name := range []string{modfile, sumfile} {
		b, err := os.ReadFile(name)
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
		fmt.Fprintf(h, "%s %d\n", filepath.Base(name), len(b))
		h.Write(b)
	}
	return []byte(hex.EncodeToString(h.Sum(nil)) + "\n"), nil
}
