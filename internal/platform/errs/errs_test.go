package errs

import (
	"bytes"
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"syscall"
	"testing"

	"connectrpc.com/connect"
)

// sqlStateError is a driver error with a SQLSTATE, as pgconn.PgError.
type sqlStateError string

func (e sqlStateError) Error() string    { return "ERROR: (SQLSTATE " + string(e) + ")" }
func (e sqlStateError) SQLState() string { return string(e) }

func TestToConnect(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		err      error
		wantCode connect.Code
		wantMsg  string
		logged   bool
	}{
		{"kind keeps its safe message", NotFoundf("product %q not found", "x"), connect.CodeNotFound, `product "x" not found`, false},
		{"wrapped kind", fmt.Errorf("store: %w", Conflictf("slug taken")), connect.CodeAlreadyExists, "slug taken", false},
		{"cause is not sent", &Error{Kind: FailedPrecondition, Message: "not enough stock", Err: errors.New("pq: row 7")}, connect.CodeFailedPrecondition, "not enough stock", false},
		{"connect errors pass through", connect.NewError(connect.CodeInvalidArgument, errors.New("page_size too big")), connect.CodeInvalidArgument, "page_size too big", false},
		{"plain errors are masked", errors.New("sql: database is closed"), connect.CodeInternal, "internal error", true},
		{"internal kind is masked", &Error{Kind: Internal, Message: "secret detail"}, connect.CodeInternal, "internal error", true},
		{"internal wrapping a downstream code is masked", &Error{Kind: Internal, Message: "check password",
			Err: connect.NewError(connect.CodePermissionDenied, errors.New("bad internal credential"))}, connect.CodeInternal, "internal error", true},
		{"canceled", fmt.Errorf("query: %w", context.Canceled), connect.CodeCanceled, "request canceled", false},
		{"deadline", fmt.Errorf("query: %w", context.DeadlineExceeded), connect.CodeDeadlineExceeded, "deadline exceeded", false},
		{"database refusing connections", fmt.Errorf("reserve: %w", &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}), connect.CodeUnavailable, "temporarily unavailable; try again", false},
		{"database shutting down", fmt.Errorf("add item: %w", sqlStateError("57P01")), connect.CodeUnavailable, "temporarily unavailable; try again", false},
		{"database starting up", sqlStateError("57P03"), connect.CodeUnavailable, "temporarily unavailable; try again", false},
		{"connection lost", fmt.Errorf("query: %w", driver.ErrBadConn), connect.CodeUnavailable, "temporarily unavailable; try again", false},
		{"other SQL errors stay internal", fmt.Errorf("insert: %w", sqlStateError("23502")), connect.CodeInternal, "internal error", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var logs bytes.Buffer
			log := slog.New(slog.NewJSONHandler(&logs, nil))
			got := toConnect(context.Background(), log, "/svc/M", tt.err)
			var ce *connect.Error
			if !errors.As(got, &ce) {
				t.Fatalf("toConnect returned %T, want *connect.Error", got)
			}
			if ce.Code() != tt.wantCode || ce.Message() != tt.wantMsg {
				t.Errorf("got %v %q, want %v %q", ce.Code(), ce.Message(), tt.wantCode, tt.wantMsg)
			}
			// The audit log records CodeOf: the code the caller gets.
			if code := CodeOf(tt.err); code != tt.wantCode {
				t.Errorf("CodeOf = %v, want %v", code, tt.wantCode)
			}
			if logged := strings.Contains(logs.String(), "internal error"); logged != tt.logged {
				t.Errorf("logged = %v, want %v (%s)", logged, tt.logged, logs.String())
			}
			if (tt.logged || tt.wantCode == connect.CodeUnavailable) && !strings.Contains(logs.String(), tt.err.Error()) {
				t.Errorf("log lacks the real cause %q: %s", tt.err, logs.String())
			}
		})
	}
}

func TestKindOf(t *testing.T) {
	t.Parallel()
	if KindOf(errors.New("x")) != Internal || !Is(fmt.Errorf("a: %w", Abortedf("b")), Aborted) || Is(nil, Internal) {
		t.Error("KindOf/Is disagree with the error chain")
	}
}
