//go:build unix

package edge

import (
	"errors"
	"net"
	"syscall"
)

// stillOpen reports whether an idle connection can carry another request:
// the upstream has neither closed it nor sent anything unasked. It peeks
// without blocking, one system call.
func stillOpen(c net.Conn) bool {
	sc, ok := c.(syscall.Conn)
	if !ok {
		return true
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return false
	}
	open := false
	var buf [1]byte
	err = raw.Read(func(fd uintptr) bool {
		_, _, err := syscall.Recvfrom(int(fd), buf[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		// EAGAIN: nothing to read, the connection is open and quiet. No
		// error means the upstream closed it (0 bytes) or sent an answer
		// nobody asked for; any other error, that it broke.
		open = errors.Is(err, syscall.EAGAIN) || errors.Is(err, syscall.EWOULDBLOCK)
		return true
	})
	return err == nil && open
}
