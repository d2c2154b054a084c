//go:build unix

package stripemocktest

import (
	"os/exec"
	"syscall"
)

// `go tool` runs stripe-mock as its own child: put both in a process group
// and kill the group, so no stripe-mock outlives the test.
func setProcessGroup(cmd *exec.Cmd) { cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} }

func killProcessGroup(cmd *exec.Cmd) {
	if cmd.Process != nil {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
}
