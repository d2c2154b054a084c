package db

import (
	"context"
	"database/sql"
	"fmt"
	"reflect"
	"slices"
	"strconv"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/schema"
)

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
	conn, err := sqlConn(idb)
	if err != nil {
		return err
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

// sqlConn is the database/sql handle under idb, which runs a statement
// as it is given, where bun's own methods write the arguments into it.
func sqlConn(idb bun.IDB) (bun.IConn, error) {
	switch d := idb.(type) {
	case *bun.DB:
		return d.DB, nil
	case bun.Tx:
		return d.Tx, nil
	case bun.Conn:
		return d.Conn, nil
	}
	return nil, fmt.Errorf("db: cannot run a statement on a %T", idb)
}

// Args are the arguments of one statement built with bun, kept apart from
// its text on PostgreSQL. Each value goes into the builder through Arg;
// Exec or Scan then runs the statement. On PostgreSQL the text has $1, $2…
// where the values go, the same every run, so each pooled connection
// prepares it once (cachingConnector) and PostgreSQL, once it settles on a
// generic plan, neither parses nor plans it again; bun alone would write
// the values into new text each time. On SQLite, which costs no round trip
// and keeps no plan, Arg is the value itself and the statement bun's.
//
//	a := db.NewArgs(idb)
//	q := idb.NewUpdate().Model((*cartRow)(nil)).Set("lines = ?", a.Arg(linesJSON)).Where("id = ?", a.Arg(id))
//	res, err := a.Exec(ctx, idb, q)
//
// A value must be one the driver takes as it is (no bun type conversions,
// such as a struct written as JSON: marshal it first).
type Args struct {
	pg   bool
	vals []any
}

// NewArgs starts the arguments of a statement to run on idb.
func NewArgs(idb bun.IDB) *Args { return &Args{pg: IsPostgres(idb)} }

// Arg is v's place in the statement.
func (a *Args) Arg(v any) any {
	if !a.pg {
		return v
	}
	a.vals = append(a.vals, v)
	return bun.Safe("$" + strconv.Itoa(len(a.vals)))
}

// SetColumns adds to q, an UPDATE, "column = value" for each column of
// model (a pointer to a struct bun knows as a table) but those named in
// except, each value through Arg: a whole row written back with its
// arguments apart. A column whose Go type is not a plain number, string or
// bool (JSON, say) is an error, as the driver would not take its value as
// it is.
func (a *Args) SetColumns(q *bun.UpdateQuery, model any, except ...string) error {
	v := reflect.Indirect(reflect.ValueOf(model))
	for _, f := range q.DB().Table(v.Type()).Fields {
		if slices.Contains(except, f.Name) {
			continue
		}
		val, err := plainValue(f, v)
		if err != nil {
			return err
		}
		q.Set(string(f.SQLName)+" = ?", a.Arg(val))
	}
	return nil
}

// Values is the quoted names of model's columns, comma-separated, and their
// values, each through Arg, for an INSERT bun's InsertQuery cannot write,
// one that takes its row from a SELECT (so that it inserts only when
// another part of its statement matched):
//
//	cols, vals, err := a.Values(idb, o, nil)
//	q := idb.NewRaw("WITH w AS (?) INSERT INTO orders (?) SELECT ? FROM w", update, bun.Safe(cols), bun.List(vals))
//
// set gives the values of the columns the driver would not take as they
// are (JSON, say: marshal it first); any other such column is an error, as
// for SetColumns.
func (a *Args) Values(idb bun.IDB, model any, set map[string]any) (columns string, values []any, err error) {
	v := reflect.Indirect(reflect.ValueOf(model))
	var b []byte
	used := 0
	for i, f := range idb.NewSelect().DB().Table(v.Type()).Fields {
		val, ok := set[f.Name]
		if ok {
			used++
		} else {
			if val, err = plainValue(f, v); err != nil {
				return "", nil, err
			}
		}
		if i > 0 {
			b = append(b, ", "...)
		}
		b = append(b, f.SQLName...)
		values = append(values, a.Arg(val))
	}
	if used != len(set) {
		return "", nil, fmt.Errorf("db: set names a column %s does not have", v.Type())
	}
	return string(b), values, nil
}

// plainValue is the value of field f of struct v, which must be a plain
// number, string or bool: one the driver takes as it is.
func plainValue(f *schema.Field, v reflect.Value) (any, error) {
	switch f.IndirectType.Kind() {
	case reflect.String, reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Float32, reflect.Float64:
		return f.Value(v).Interface(), nil
	}
	return nil, fmt.Errorf("db: column %s of %s is a %s, not a plain value", f.Name, v.Type(), f.IndirectType)
}

// Query is a statement bun built.
type Query interface {
	String() string
	Exec(ctx context.Context, dest ...any) (sql.Result, error)
}

// Exec runs q on idb with the arguments.
func (a *Args) Exec(ctx context.Context, idb bun.IDB, q Query) (sql.Result, error) {
	if !a.pg {
		return q.Exec(ctx)
	}
	conn, err := sqlConn(idb)
	if err != nil {
		return nil, err
	}
	return conn.ExecContext(ctx, q.String(), a.vals...)
}

// Scan runs q, a SELECT or a statement with RETURNING, on idb with the
// arguments and scans its rows into dest, a model or a slice of them, as
// bun's Scan does (a single model with no row: sql.ErrNoRows).
func (a *Args) Scan(ctx context.Context, idb bun.IDB, q interface {
	String() string
	Scan(ctx context.Context, dest ...any) error
}, dest any) error {
	if !a.pg {
		return q.Scan(ctx, dest)
	}
	return Select(ctx, idb, dest, q.String(), a.vals...)
}
