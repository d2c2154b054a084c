package db_test

import (
	"context"
	"database/sql"
	"runtime"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/emporiumhq/emporium/internal/platform/db"
	"github.com/emporiumhq/emporium/internal/platform/db/dbtest"
)

var migrations = fstest.MapFS{
	"0001_things.sql": {Data: []byte(`-- a comment line
CREATE TABLE things (id TEXT PRIMARY KEY, n BIGINT NOT NULL);
CREATE INDEX things_n ON things (n);`)},
	"0002_more.pg.sql":     {Data: []byte("ALTER TABLE things ADD COLUMN tags TEXT NOT NULL DEFAULT 'pg';")},
	"0002_more.sqlite.sql": {Data: []byte("ALTER TABLE things ADD COLUMN tags TEXT NOT NULL DEFAULT 'sqlite';")},
	// A function's body holds semicolons at the ends of its lines: the
	// migration is still two statements.
	"0003_fn.pg.sql": {Data: []byte(`CREATE FUNCTION add_thing(p_id TEXT) RETURNS BIGINT LANGUAGE plpgsql AS $$
DECLARE
    total BIGINT;
BEGIN
    INSERT INTO things (id, n) VALUES (p_id, 0);
    SELECT count(*) INTO total FROM things;
    RETURN total;
END
$$;
CREATE INDEX things_tags ON things (tags);`)},
	"0003_fn.sqlite.sql": {Data: []byte("CREATE INDEX things_tags ON things (tags);")},
	"README.txt":         {Data: []byte("not a migration")},
}

func TestMigrate(t *testing.T) {
	t.Parallel()
	for _, engine := range dbtest.Engines {
		t.Run(engine, func(t *testing.T) {
			t.Parallel()
			d := dbtest.Open(t, engine, "dbtest", fstest.MapFS{})
			ctx := context.Background()
			applied, err := db.Migrate(ctx, d, migrations)
			if err != nil {
				t.Fatalf("Migrate: %v", err)
			}
			if diff := cmp.Diff([]string{"0001_things", "0002_more", "0003_fn"}, applied); diff != "" {
				t.Errorf("applied (-want +got):\n%s", diff)
			}
			again, err := db.Migrate(ctx, d, migrations)
			if err != nil || len(again) != 0 {
				t.Fatalf("second Migrate = %v, %v; want nothing applied", again, err)
			}
			if _, err := d.ExecContext(ctx, "INSERT INTO things (id, n) VALUES ('a', 1)"); err != nil {
				t.Fatal(err)
			}
			var tags string
			if err := d.QueryRowContext(ctx, "SELECT tags FROM things WHERE id = 'a'").Scan(&tags); err != nil {
				t.Fatal(err)
			}
			want := map[string]string{"sqlite": "sqlite", "postgres": "pg"}[engine]
			if tags != want {
				t.Errorf("dialect migration: tags = %q, want %q", tags, want)
			}
			_, err = d.ExecContext(ctx, "INSERT INTO things (id, n) VALUES ('a', 2)")
			if !db.IsUniqueViolation(err) {
				t.Errorf("IsUniqueViolation(%v) = false, want true", err)
			}
			if engine == "postgres" {
				var total int64
				if err := d.QueryRowContext(ctx, "SELECT add_thing('b')").Scan(&total); err != nil || total != 2 {
					t.Errorf("add_thing('b') = %d, %v; want 2 things", total, err)
				}
			}
		})
	}
}

func TestOpenRejectsUnknownURL(t *testing.T) {
	t.Parallel()
	_, err := db.Open(context.Background(), "mysql://root:secret@localhost/x", db.Options{})
	if err == nil || !strings.Contains(err.Error(), "want sqlite:PATH or postgres://") {
		t.Fatalf("Open(mysql) error = %v, want a clear message", err)
	}
	if strings.Contains(err.Error(), "secret") {
		t.Errorf("error leaks the password: %v", err)
	}
}

// A PostgreSQL pool holds as many connections as the process has cores (at
// least 4) unless told otherwise, and a caller beyond it waits for a
// connection to come back instead of failing.
func TestPostgresPoolSize(t *testing.T) {
	t.Parallel()
	u := dbtest.URL(t, "postgres", "poolsize", fstest.MapFS{})
	ctx := context.Background()
	if got, want := db.DefaultMaxConns(), max(4, runtime.GOMAXPROCS(0)); got != want {
		t.Errorf("DefaultMaxConns() = %d, want %d", got, want)
	}
	for _, c := range []struct {
		name string
		opt  int
		want int
	}{{"default", 0, db.DefaultMaxConns()}, {"set", 2, 2}} {
		t.Run(c.name, func(t *testing.T) {
			d, err := db.Open(ctx, u, db.Options{Schema: "poolsize", MaxOpenConns: c.opt})
			if err != nil {
				t.Fatal(err)
			}
			defer d.Close()
			if got := d.DB.Stats().MaxOpenConnections; got != c.want {
				t.Errorf("MaxOpenConnections = %d, want %d", got, c.want)
			}
		})
	}

	d, err := db.Open(ctx, u, db.Options{Schema: "poolsize", MaxOpenConns: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	held := make([]*sql.Conn, 2)
	for i := range held {
		if held[i], err = d.DB.Conn(ctx); err != nil {
			t.Fatal(err)
		}
	}
	waited := make(chan error, 1)
	go func() {
		var one int
		waited <- d.DB.QueryRowContext(ctx, "SELECT 1").Scan(&one)
	}()
	select {
	case err := <-waited:
		t.Fatalf("a third statement ran on a pool of 2 with both connections held (err %v)", err)
	case <-time.After(200 * time.Millisecond):
	}
	if w := d.DB.Stats().WaitCount; w != 1 {
		t.Errorf("WaitCount = %d, want 1 (the third statement waiting)", w)
	}
	held[0].Close()
	if err := <-waited; err != nil {
		t.Fatalf("the waiting statement, once a connection came back: %v", err)
	}
	held[1].Close()
}
