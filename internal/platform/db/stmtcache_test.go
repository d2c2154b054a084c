package db_test

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"net/url"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/uptrace/bun"

	"github.com/emporiumhq/emporium/internal/platform/db"
	"github.com/emporiumhq/emporium/internal/platform/db/dbtest"
)

// TestParameterisedStatementsArePreparedOnce: on PostgreSQL a statement that
// comes with arguments (River's queue sends only such) is prepared once per
// connection and then reused, while one with its arguments written into the
// text (bun's) is sent unnamed and leaves nothing behind; a
// default_query_exec_mode in the URL turns the cache off.
func TestParameterisedStatementsArePreparedOnce(t *testing.T) {
	t.Parallel()
	u := dbtest.URL(t, "postgres", "stmtcache", fstest.MapFS{
		"0001_things.sql": {Data: []byte("CREATE TABLE things (id BIGINT PRIMARY KEY, name TEXT NOT NULL)")},
	})
	execMode, err := url.Parse(u)
	if err != nil {
		t.Fatal(err)
	}
	q := execMode.Query()
	q.Set("default_query_exec_mode", "exec")
	execMode.RawQuery = q.Encode()
	ctx := context.Background()
	for _, c := range []struct {
		name, url string
		want      int
	}{
		{"default", u, 1},
		{"exec mode in the URL", execMode.String(), 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			d, err := db.Open(ctx, c.url, db.Options{Schema: "stmtcache"})
			if err != nil {
				t.Fatal(err)
			}
			defer d.Close()
			conn, err := d.DB.Conn(ctx) // database/sql, as River uses it; one connection, as prepared statements are per session
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			for i := range 3 {
				if _, err := conn.ExecContext(ctx, "INSERT INTO things (id, name) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING", i, "thing"); err != nil {
					t.Fatalf("insert %d: %v", i, err)
				}
				var n int
				if err := conn.QueryRowContext(ctx, "SELECT count(*) FROM things WHERE id <= $1", i).Scan(&n); err != nil {
					t.Fatalf("select %d: %v", i, err)
				}
				if n != i+1 {
					t.Fatalf("after insert %d: %d things, want %d", i, n, i+1)
				}
				if _, err := conn.ExecContext(ctx, "UPDATE things SET name = 'inlined' WHERE id = 0"); err != nil {
					t.Fatal(err)
				}
			}
			rows, err := conn.QueryContext(ctx, "SELECT statement FROM pg_prepared_statements")
			if err != nil {
				t.Fatal(err)
			}
			defer rows.Close()
			byText := map[string]int{}
			for rows.Next() {
				var s string
				if err := rows.Scan(&s); err != nil {
					t.Fatal(err)
				}
				byText[s]++
			}
			if err := rows.Err(); err != nil {
				t.Fatal(err)
			}
			for _, q := range []string{
				"INSERT INTO things (id, name) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING",
				"SELECT count(*) FROM things WHERE id <= $1",
			} {
				if byText[q] != c.want {
					t.Errorf("%q prepared %d times on the connection, want %d (prepared: %v)", q, byText[q], c.want, byText)
				}
			}
			if len(byText) != 2*c.want {
				t.Errorf("prepared statements %v, want only the two with arguments, %d each", byText, c.want)
			}
		})
	}
}

// textArray is an argument the way River passes its arrays: a
// driver.Valuer whose value is PostgreSQL's text form.
type textArray []string

func (a *textArray) Value() (driver.Value, error) {
	if a == nil {
		return nil, nil
	}
	return "{" + strings.Join(*a, ",") + "}", nil
}

// Valuers reach PostgreSQL as their text (a nil pointer as NULL) through
// the statement cache, for any parameter type the text can be read as.
func TestValuerArgumentsGoAsTheirText(t *testing.T) {
	t.Parallel()
	u := dbtest.URL(t, "postgres", "stmtvaluer", fstest.MapFS{})
	ctx := context.Background()
	d, err := db.Open(ctx, u, db.Options{Schema: "stmtvaluer"})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	for range 2 { // prepared, then reused
		var n int
		var j string
		tags := textArray{"a", "b", "c"}
		err := d.DB.QueryRowContext(ctx, "SELECT cardinality($1::text[]), ($2::jsonb[])[2]::text",
			&tags, &textArray{`"{\"x\":1}"`, `"[2]"`}).Scan(&n, &j)
		if err != nil || n != 3 || j != "[2]" {
			t.Fatalf("text array and jsonb array = %d, %q, %v; want 3, [2]", n, j, err)
		}
		var isNull bool
		var none *textArray
		if err := d.DB.QueryRowContext(ctx, "SELECT $1::text[] IS NULL", none).Scan(&isNull); err != nil || !isNull {
			t.Fatalf("nil Valuer = %v, %v; want NULL", isNull, err)
		}
	}
}

type thing struct {
	ID   int64 `bun:",pk"`
	Name string
}

type jsonThing struct {
	bun.BaseModel `bun:"table:things"`
	ID            int64    `bun:",pk"`
	Tags          []string `bun:",type:text"`
}

// Select scans as bun's Scan does: rows into a slice, one row into a
// model, none into a model as sql.ErrNoRows; an array argument is a
// PostgreSQL array.
func TestSelect(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := dbtest.Open(t, "postgres", "dbselect", fstest.MapFS{
		"0001_things.sql": {Data: []byte("CREATE TABLE things (id BIGINT PRIMARY KEY, name TEXT NOT NULL);\nINSERT INTO things VALUES (1, 'one'), (2, 'two'), (3, 'three');")},
	})
	var some []*thing
	if err := db.Select(ctx, d, &some, "SELECT * FROM things WHERE name = ANY($1) ORDER BY id", []string{"one", "three", "four"}); err != nil {
		t.Fatal(err)
	}
	if len(some) != 2 || *some[0] != (thing{1, "one"}) || *some[1] != (thing{3, "three"}) {
		t.Errorf("Select(name = ANY(one, three, four)) = %v, want things 1 and 3", some)
	}
	var one thing
	if err := db.Select(ctx, d, &one, "SELECT * FROM things WHERE id = $1", 2); err != nil || one != (thing{2, "two"}) {
		t.Errorf("Select(id = 2) = %v, %v; want thing 2", one, err)
	}
	if err := db.Select(ctx, d, &one, "SELECT * FROM things WHERE id = $1", 9); !errors.Is(err, sql.ErrNoRows) {
		t.Errorf("Select(id = 9) = %v, want sql.ErrNoRows", err)
	}
	var none []*thing
	if err := db.Select(ctx, d, &none, "SELECT * FROM things WHERE id = $1", 9); err != nil || len(none) != 0 {
		t.Errorf("Select(id = 9) into a slice = %v, %v; want no rows, no error", none, err)
	}
	// In a transaction, from a bun query written with $1: the row locked
	// is the one read.
	err := d.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		var locked thing
		q := tx.NewSelect().Model(&locked).Where("id = $1").For("UPDATE").String()
		if err := db.Select(ctx, tx, &locked, q, 3); err != nil || locked != (thing{3, "three"}) {
			t.Errorf("Select(%s, 3) in a transaction = %v, %v; want thing 3", q, locked, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// A statement built with Args reads and writes the same rows on both
// engines, with its arguments apart from its text on PostgreSQL.
func TestArgs(t *testing.T) {
	t.Parallel()
	dbtest.ForEachEngine(t, func(t *testing.T, engine string) {
		ctx := context.Background()
		d := dbtest.Open(t, engine, "dbargs", fstest.MapFS{
			"0001_things.sql": {Data: []byte("CREATE TABLE things (id BIGINT PRIMARY KEY, name TEXT NOT NULL);\nINSERT INTO things VALUES (1, 'one'), (2, 'two'), (3, 'three');")},
		})
		var got thing
		a := db.NewArgs(d)
		q := d.NewSelect().Model(&got).Where("id > ? AND name = ?", a.Arg(1), a.Arg("three"))
		if err := a.Scan(ctx, d, q, &got); err != nil || got != (thing{3, "three"}) {
			t.Errorf("Scan(id > 1 AND name = three) = %v, %v; want thing 3", got, err)
		}
		if text := q.String(); (engine == "postgres") != strings.Contains(text, "$2") || strings.Contains(text, "three") == (engine == "postgres") {
			t.Errorf("%s statement %q: want the arguments apart on PostgreSQL only", engine, text)
		}
		var some []*thing
		a = db.NewArgs(d)
		if err := a.Scan(ctx, d, d.NewSelect().Model(&some).Where("id >= ?", a.Arg(2)).Order("id"), &some); err != nil || len(some) != 2 || some[0].ID != 2 || some[1].ID != 3 {
			t.Errorf("Scan(id >= 2) = %v, %v; want things 2 and 3", some, err)
		}
		var none thing
		a = db.NewArgs(d)
		if err := a.Scan(ctx, d, d.NewSelect().Model(&none).Where("id = ?", a.Arg(9)), &none); !errors.Is(err, sql.ErrNoRows) {
			t.Errorf("Scan(id = 9) = %v, want sql.ErrNoRows", err)
		}
		err := d.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
			a := db.NewArgs(tx)
			res, err := a.Exec(ctx, tx, tx.NewUpdate().Model((*thing)(nil)).Set("name = ?", a.Arg("deux")).Where("id = ?", a.Arg(2)))
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n != 1 {
				t.Errorf("Exec(UPDATE id 2) changed %d rows, want 1", n)
			}
			a = db.NewArgs(tx)
			u := tx.NewUpdate().Model((*thing)(nil))
			if err := a.SetColumns(u, &thing{ID: 3, Name: "trois"}, "id"); err != nil {
				return err
			}
			if _, err := a.Exec(ctx, tx, u.Where("id = ?", a.Arg(3))); err != nil {
				return err
			}
			var three thing
			if err := tx.NewSelect().Model(&three).Where("id = 3").Scan(ctx); err != nil || three.Name != "trois" {
				t.Errorf("after SetColumns(name = trois): %v, %v", three, err)
			}
			if err := db.NewArgs(tx).SetColumns(tx.NewUpdate().Model((*jsonThing)(nil)), &jsonThing{}); err == nil {
				t.Error("SetColumns of a JSON column: no error")
			}
			a = db.NewArgs(tx)
			cols, vals, err := a.Values(tx, &thing{ID: 4, Name: "ignored"}, map[string]any{"name": "quatre"})
			if err != nil {
				return err
			}
			// Inserted only when the SELECT finds a row: thing 4 once, not for thing 9.
			for _, after := range []int{3, 9} {
				if _, err := a.Exec(ctx, tx, tx.NewRaw("INSERT INTO things (?) SELECT ? FROM things WHERE id = ?", bun.Safe(cols), bun.List(vals), after)); err != nil {
					return err
				}
			}
			var four []thing
			if err := tx.NewSelect().Model(&four).Where("id = 4").Scan(ctx); err != nil || len(four) != 1 || four[0].Name != "quatre" {
				t.Errorf("after an INSERT … SELECT of Values(4, set name = quatre): %v, %v; want thing 4 named quatre", four, err)
			}
			if _, _, err := db.NewArgs(tx).Values(tx, &thing{}, map[string]any{"colour": "red"}); err == nil {
				t.Error("Values setting a column the model does not have: no error")
			}
			if _, _, err := db.NewArgs(tx).Values(tx, &jsonThing{}, nil); err == nil {
				t.Error("Values of a JSON column: no error")
			}
			var back thing
			a = db.NewArgs(tx)
			u = tx.NewUpdate().Model(&back).Set("name = name || ?", a.Arg("!")).Where("id = ?", a.Arg(2)).Returning("*")
			if err := a.Scan(ctx, tx, u, &back); err != nil || back != (thing{2, "deux!"}) {
				t.Errorf("Scan(UPDATE … RETURNING) = %v, %v; want thing 2 named deux!", back, err)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	})
}
