package errs

import (
	"database/sql/driver"
	"errors"
	"io"
	"net"
	"strings"
	"syscall"
)

// unreachable reports whether err says that a system the service depends
// on (its database, above all) could not be reached or dropped the
// connection: a refused or reset connection, a connection that ended
// mid-answer, or a PostgreSQL server shutting down, starting up or out of
// connections. Such a failure is the caller's to retry (unavailable, 503),
// not a bug (internal, 500). The checks are structural, so that errs knows
// no driver: PostgreSQL's errors are recognised by their SQLSTATE.
func unreachable(err error) bool {
	var st interface{ SQLState() string }
	if errors.As(err, &st) {
		code := st.SQLState()
		switch {
		case strings.HasPrefix(code, "08"): // connection exception
			return true
		case code == "57P01", code == "57P02", code == "57P03": // admin or crash shutdown, cannot connect now
			return true
		case code == "53300": // too many connections
			return true
		}
		return false
	}
	var op *net.OpError
	switch {
	case errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		return true
	case errors.Is(err, driver.ErrBadConn), errors.Is(err, io.ErrUnexpectedEOF):
		return true
	case errors.As(err, &op):
		return true
	}
	// pgx reports a connection it closed after a failure, or one that
	// failed before anything was sent, with errors that say it is safe to
	// retry.
	var retry interface{ SafeToRetry() bool }
	return errors.As(err, &retry) && retry.SafeToRetry()
}
