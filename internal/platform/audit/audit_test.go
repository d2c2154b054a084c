package audit_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/uptrace/bun"

	"github.com/emporiumhq/emporium/internal/platform/audit"
	"github.com/emporiumhq/emporium/internal/platform/db"
	"github.com/emporiumhq/emporium/internal/platform/db/dbtest"
)

// appendN appends n entries of alternating actors and procedures, the
// i-th (from 1) on target "t<i%3>", one second apart from t0.
func appendN(t *testing.T, l *audit.Log, t0 time.Time, n int) {
	t.Helper()
	for i := 1; i <= n; i++ {
		e := &audit.Entry{
			TimeMicros: t0.Add(time.Duration(i) * time.Second).UnixMicro(),
			Actor:      []string{"staff-1", "admin-1"}[i%2],
			ActorRoles: []string{"staff", "admin"}[i%2],
			Procedure:  []string{"/emporium.product.v1.ProductService/UpdateProduct", "/emporium.order.v1.OrderService/RefundOrder"}[i%2],
			TargetID:   fmt.Sprintf("t%d", i%3),
			Request:    fmt.Sprintf(`{"n":%d}`, i),
			Code:       []string{"ok", "not_found"}[i%2],
		}
		if err := l.Append(context.Background(), e); err != nil {
			t.Fatalf("append %d: %v", i, err)
		}
		if e.Seq != int64(i) {
			t.Fatalf("append %d got seq %d", i, e.Seq)
		}
	}
}

func seqs(entries []audit.Entry) []int64 {
	var out []int64
	for _, e := range entries {
		out = append(out, e.Seq)
	}
	return out
}

func TestAppendChainsAndLists(t *testing.T) {
	t.Parallel()
	dbtest.ForEachEngine(t, func(t *testing.T, engine string) {
		ctx := context.Background()
		l := audit.New(dbtest.Open(t, engine, "audit", audit.Migrations), "product")
		t0 := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
		appendN(t, l, t0, 7)

		all, err := l.List(ctx, audit.Filter{}, 100)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]int64{7, 6, 5, 4, 3, 2, 1}, seqs(all)); diff != "" {
			t.Errorf("List order (-want +got):\n%s", diff)
		}
		for i, e := range all {
			wantPrev := audit.GenesisHash
			if i+1 < len(all) {
				wantPrev = all[i+1].Hash
			}
			if e.PrevHash != wantPrev || e.Hash != e.ComputeHash() || len(e.Hash) != 64 {
				t.Errorf("entry %d: prev %s hash %s, want prev %s and a hash of its content", e.Seq, e.PrevHash, e.Hash, wantPrev)
			}
		}
		if got := all[0].Time(); !got.Equal(t0.Add(7 * time.Second)) {
			t.Errorf("entry 7 time = %v, want %v", got, t0.Add(7*time.Second))
		}

		tests := []struct {
			name string
			f    audit.Filter
			want []int64
		}{
			{"actor", audit.Filter{Actor: "staff-1"}, []int64{6, 4, 2}},
			{"method name", audit.Filter{Procedure: "RefundOrder"}, []int64{7, 5, 3, 1}},
			{"method name is not a pattern", audit.Filter{Procedure: "Refund_rder"}, nil},
			{"full procedure", audit.Filter{Procedure: "/emporium.product.v1.ProductService/UpdateProduct"}, []int64{6, 4, 2}},
			{"target", audit.Filter{TargetID: "t0"}, []int64{6, 3}},
			{"code", audit.Filter{Code: "not_found"}, []int64{7, 5, 3, 1}},
			{"time range", audit.Filter{Start: t0.Add(2 * time.Second), End: t0.Add(5 * time.Second)}, []int64{4, 3, 2}},
			{"before", audit.Filter{Before: 3}, []int64{2, 1}},
			{"combined", audit.Filter{Actor: "admin-1", TargetID: "t1", Code: "not_found"}, []int64{7, 1}},
		}
		for _, tt := range tests {
			got, err := l.List(ctx, tt.f, 100)
			if err != nil {
				t.Fatalf("%s: %v", tt.name, err)
			}
			if diff := cmp.Diff(tt.want, seqs(got)); diff != "" {
				t.Errorf("%s (-want +got):\n%s", tt.name, diff)
			}
		}

		r, err := l.Verify(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if r.Entries != 7 || len(r.Breaks) != 0 || r.HeadSeq != 7 || r.HeadHash != all[0].Hash {
			t.Errorf("Verify = %+v, want 7 entries, no breaks, head 7 %s", r, all[0].Hash)
		}
	})
}

func TestVerifyOfAnEmptyLog(t *testing.T) {
	t.Parallel()
	dbtest.ForEachEngine(t, func(t *testing.T, engine string) {
		r, err := audit.New(dbtest.Open(t, engine, "audit", audit.Migrations), "user").Verify(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if r.Entries != 0 || len(r.Breaks) != 0 || r.HeadHash != audit.GenesisHash {
			t.Errorf("Verify = %+v, want an intact empty chain", r)
		}
	})
}

func TestTheLogIsAppendOnly(t *testing.T) {
	t.Parallel()
	dbtest.ForEachEngine(t, func(t *testing.T, engine string) {
		ctx := context.Background()
		d := dbtest.Open(t, engine, "audit", audit.Migrations)
		appendN(t, audit.New(d, "product"), time.Now(), 2)
		for _, stmt := range []string{
			"UPDATE audit_log SET code = 'ok' WHERE seq = 1",
			"DELETE FROM audit_log WHERE seq = 2",
		} {
			_, err := d.ExecContext(ctx, stmt)
			if err == nil || !strings.Contains(err.Error(), "append-only") {
				t.Errorf("%s: err = %v, want the append-only trigger's refusal", stmt, err)
			}
		}
		var n int
		if err := d.QueryRowContext(ctx, "SELECT count(*) FROM audit_log").Scan(&n); err != nil || n != 2 {
			t.Errorf("entries = %d, %v; want 2", n, err)
		}
	})
}

// dropGuards removes the append-only triggers, as someone with DDL rights
// tampering with the log would.
func dropGuards(t *testing.T, d *bun.DB) {
	t.Helper()
	stmts := []string{"DROP TRIGGER audit_log_no_update", "DROP TRIGGER audit_log_no_delete"}
	if db.IsPostgres(d) {
		stmts = []string{"DROP TRIGGER audit_log_append_only ON audit_log"}
	}
	for _, s := range stmts {
		if _, err := d.ExecContext(context.Background(), s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
}

func TestVerifyFindsTampering(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		// tamper changes a chain of 6 entries.
		tamper func(t *testing.T, d *bun.DB, l *audit.Log)
		want   []audit.Break
	}{
		{
			name: "edited entry",
			tamper: func(t *testing.T, d *bun.DB, _ *audit.Log) {
				exec(t, d, `UPDATE audit_log SET code = 'ok' WHERE seq = 3`)
			},
			want: []audit.Break{{Seq: 3, Reason: "the entry's content does not match its hash: edited"}},
		},
		{
			name: "edited entry with its hash recomputed",
			tamper: func(t *testing.T, d *bun.DB, l *audit.Log) {
				e := entry(t, d, 3)
				e.Actor = "someone-else"
				exec(t, d, `UPDATE audit_log SET actor = ?, hash = ? WHERE seq = 3`, e.Actor, e.ComputeHash())
			},
			want: []audit.Break{{Seq: 4, Reason: "prev_hash is not the hash of entry 3: an entry was edited or inserted"}},
		},
		{
			name: "deleted entry",
			tamper: func(t *testing.T, d *bun.DB, _ *audit.Log) {
				exec(t, d, `DELETE FROM audit_log WHERE seq = 4`)
			},
			want: []audit.Break{{Seq: 5, Reason: "entry 4 is missing: deleted"}},
		},
		{
			name: "deleted entries",
			tamper: func(t *testing.T, d *bun.DB, _ *audit.Log) {
				exec(t, d, `DELETE FROM audit_log WHERE seq IN (2, 3)`)
			},
			want: []audit.Break{{Seq: 4, Reason: "entries 2 to 3 are missing: deleted"}},
		},
		{
			name: "deleted last entry",
			tamper: func(t *testing.T, d *bun.DB, _ *audit.Log) {
				exec(t, d, `DELETE FROM audit_log WHERE seq = 6`)
			},
			want: []audit.Break{{Seq: 6, Reason: "the chain head is entry 6 but the log ends at entry 5: entries deleted from the end"}},
		},
		{
			name: "deleted first entry, renumbered",
			tamper: func(t *testing.T, d *bun.DB, _ *audit.Log) {
				exec(t, d, `DELETE FROM audit_log WHERE seq = 1`)
				exec(t, d, `UPDATE audit_log SET seq = seq - 1`)
				exec(t, d, `UPDATE audit_head SET seq = 5`)
			},
			want: []audit.Break{
				{Seq: 1, Reason: "prev_hash is not the hash of entry 0: an entry was edited or inserted"},
				{Seq: 1, Reason: "the entry's content does not match its hash: edited"},
				{Seq: 2, Reason: "the entry's content does not match its hash: edited"},
				{Seq: 3, Reason: "the entry's content does not match its hash: edited"},
				{Seq: 4, Reason: "the entry's content does not match its hash: edited"},
				{Seq: 5, Reason: "the entry's content does not match its hash: edited"},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dbtest.ForEachEngine(t, func(t *testing.T, engine string) {
				d := dbtest.Open(t, engine, "audit", audit.Migrations)
				l := audit.New(d, "order")
				appendN(t, l, time.Now(), 6)
				dropGuards(t, d)
				tt.tamper(t, d, l)
				r, err := l.Verify(context.Background())
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(tt.want, r.Breaks); diff != "" {
					t.Errorf("breaks (-want +got):\n%s", diff)
				}
			})
		})
	}
}

func exec(t *testing.T, d *bun.DB, q string, args ...any) {
	t.Helper()
	if _, err := d.ExecContext(context.Background(), q, args...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

func entry(t *testing.T, d *bun.DB, seq int64) *audit.Entry {
	t.Helper()
	e := &audit.Entry{}
	if err := d.NewSelect().Model(e).Where("seq = ?", seq).Scan(context.Background()); err != nil {
		t.Fatal(err)
	}
	return e
}

// TestConcurrentWritersKeepOneChain appends from two connection pools on
// one PostgreSQL database, as two replicas of a service do, many goroutines
// each: the row lock on the chain head must leave one gapless chain.
func TestConcurrentWritersKeepOneChain(t *testing.T) {
	t.Parallel()
	url := dbtest.URL(t, "postgres", "audit", audit.Migrations)
	const replicas, writers, each = 2, 6, 15
	var logs []*audit.Log
	for range replicas {
		d, err := db.Open(context.Background(), url, db.Options{Schema: "audit", MaxOpenConns: writers})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { d.Close() })
		logs = append(logs, audit.New(d, "product"))
	}
	var wg sync.WaitGroup
	errc := make(chan error, replicas*writers*each)
	for r, l := range logs {
		for w := range writers {
			wg.Go(func() {
				for i := range each {
					e := &audit.Entry{Actor: fmt.Sprintf("replica-%d-writer-%d", r, w), Procedure: "/p.S/M", Request: fmt.Sprintf(`{"i":%d}`, i), Code: "ok"}
					if err := l.Append(context.Background(), e); err != nil {
						errc <- err
						return
					}
				}
			})
		}
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Fatalf("append: %v", err)
	}
	r, err := logs[0].Verify(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if want := int64(replicas * writers * each); r.Entries != want || r.HeadSeq != want || len(r.Breaks) != 0 {
		t.Errorf("Verify = %d entries, head %d, breaks %v; want %d entries in one intact chain", r.Entries, r.HeadSeq, r.Breaks, want)
	}
}
