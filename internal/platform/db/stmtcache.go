package db

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"reflect"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/uptrace/bun"
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

// Select runs query, written with PostgreSQL's placeholders ($1, $2…), with
// args sent apart from its text, on idb (a *bun.DB, bun.Tx or bun.Conn),
// and scans its rows into dest (a pointer to a model or to a slice of them)
// as bun's Scan does: a single model with no row is sql.ErrNoRows. bun
// writes arguments into a statement's text, which PostgreSQL then parses
// and plans every time; a statement sent with its arguments apart is
// prepared once per pooled connection (cachingConnector) and, when
// PostgreSQL settles on a generic plan, not planned again. For the hot
// reads of a request path on PostgreSQL (the text can come from a bun
// query whose conditions are written with $1…); a statement with an IN
// list or other varying text gains nothing.
func Select(ctx context.Context, idb bun.IDB, dest any, query string, args ...any) error {
	var conn bun.IConn
	switch d := idb.(type) {
	case *bun.DB:
		conn = d.DB
	case bun.Tx:
		conn = d.Tx
	case bun.Conn:
		conn = d.Conn
	default:
		return fmt.Errorf("db.Select on a %T", idb)
	}
	rows, err := conn.QueryContext(ctx, query, args...)
	if err != nil {
		return err
	}
	d := idb.NewSelect().DB()
	if t := reflect.TypeOf(dest); t.Kind() == reflect.Pointer && t.Elem().Kind() == reflect.Slice {
		return d.ScanRows(ctx, rows, dest)
	}
	defer rows.Close()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return err
		}
		return sql.ErrNoRows
	}
	if err := d.ScanRow(ctx, rows, dest); err != nil {
		return err
	}
	return rows.Close()
}

// ScanWhere runs q, a SELECT of dest's model, with the condition where and
// its args, and scans the result into dest as q.Scan would. On PostgreSQL
// the args go apart from the text (Select): the where's plain ? become $1,
// $2… in order, so write no other ? in it (no ?TableAlias, no ? in a
// literal). On SQLite, which costs no round trip and plans nothing that
// stays, it is bun's q.Where(where, args…).Scan.
func ScanWhere(ctx context.Context, idb bun.IDB, q *bun.SelectQuery, dest any, where string, args ...any) error {
	if !IsPostgres(idb) {
		return q.Where(where, args...).Scan(ctx)
	}
	return Select(ctx, idb, dest, q.Where(numbered(where)).String(), args...)
}

// numbered is where with its ? numbered as PostgreSQL's $1, $2….
func numbered(where string) string {
	var b strings.Builder
	n := 0
	for {
		i := strings.IndexByte(where, '?')
		if i < 0 {
			b.WriteString(where)
			return b.String()
		}
		n++
		b.WriteString(where[:i])
		b.WriteByte('$')
		b.WriteString(strconv.Itoa(n))
		where = where[i+1:]
	}
}
