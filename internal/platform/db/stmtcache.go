package db

import (
	"context"
	"database/sql/driver"
	"reflect"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
)

// cachingConnector hands out connections that keep the plans of
// parameterised statements.
//
// The pool runs in pgx's exec mode (see openPostgres): bun writes its
// arguments into the SQL text, so a statement cache would only fill up with
// statements never seen again. The statements that do arrive with
// arguments ($1, $2…) are the same text every time: River's job queue
// (insert, fetch, complete, notify: several per checkout) and any
// hand-written query. For those, each connection prepares the statement
// once under a name and then only binds and executes it, so PostgreSQL
// neither parses nor (after its first few custom plans) plans it again.
// pgx's LRU statement cache (512 per connection) bounds what is kept, and a
// statement whose plan went stale (a migration changed a table) is dropped
// from the cache by pgx on its first error.
type cachingConnector struct{ driver.Connector }

func (c cachingConnector) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := c.Connector.Connect(ctx)
	if err != nil {
		return nil, err
	}
	return &cachingConn{conn.(*stdlib.Conn)}, nil
}

// cachingConn is a pgx stdlib connection (every optional database/sql
// interface it has is promoted) whose statements with arguments run in
// pgx's cache-statement mode.
type cachingConn struct{ *stdlib.Conn }

func (c *cachingConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	return c.Conn.ExecContext(ctx, query, cacheStatement(args))
}

func (c *cachingConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	return c.Conn.QueryContext(ctx, query, cacheStatement(args))
}

// cacheStatement puts pgx's per-query mode option before args when there
// are any (pgx reads leading options off a query's arguments); a statement
// without arguments goes as it is.
//
// An argument that is a driver.Valuer whose value is text goes as that
// text. A prepared statement tells pgx each parameter's type, and pgx
// sends a Valuer's text for a binary type (River passes its arrays and
// JSON so) by parsing it and encoding it in binary, which cost more client
// CPU than the statement cache saved PostgreSQL; text it sends as it is,
// for PostgreSQL to read.
func cacheStatement(args []driver.NamedValue) []driver.NamedValue {
	if len(args) == 0 {
		return args
	}
	out := make([]driver.NamedValue, 0, len(args)+1)
	out = append(out, driver.NamedValue{Value: pgx.QueryExecModeCacheStatement})
	for _, a := range args {
		if s, ok := valuerText(a.Value); ok {
			a.Value = s
		}
		out = append(out, a)
	}
	return out
}

// valuerText is the value of v when v is a driver.Valuer whose value is a
// string (database/sql's own rules: a nil pointer is not asked).
func valuerText(v any) (string, bool) {
	vr, ok := v.(driver.Valuer)
	if !ok {
		return "", false
	}
	if rv := reflect.ValueOf(vr); rv.Kind() == reflect.Pointer && rv.IsNil() {
		return "", false
	}
	val, err := vr.Value()
	s, ok := val.(string)
	return s, err == nil && ok
}
