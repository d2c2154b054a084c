package jobs_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/fstest"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	"github.com/uptrace/bun"

	"github.com/emporiumhq/emporium/internal/platform/db"
	"github.com/emporiumhq/emporium/internal/platform/db/dbtest"
	"github.com/emporiumhq/emporium/internal/platform/jobs"
)

const (
	schema = "jobstest"
	poll   = 50 * time.Millisecond
	wait   = 15 * time.Second
)

// open returns a fresh database of engine with River's tables, processed_events
// and a side_effects table for workers to write to.
func open(t *testing.T, engine string) *bun.DB {
	t.Helper()
	d := dbtest.Open(t, engine, schema, jobs.Migrations())
	migrate(t, d)
	return d
}

func migrate(t *testing.T, d *bun.DB) {
	t.Helper()
	ctx := context.Background()
	if err := jobs.Migrate(ctx, d); err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	if _, err := d.ExecContext(ctx, "CREATE TABLE IF NOT EXISTS side_effects (event_id TEXT NOT NULL)"); err != nil {
		t.Fatal(err)
	}
}

// start makes and starts a client, stopped when the test ends.
func start(t *testing.T, d *bun.DB, cfg jobs.Config) *jobs.Client {
	t.Helper()
	if cfg.FetchPollInterval == 0 {
		cfg.FetchPollInterval = poll
	}
	c, err := jobs.New(d, cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	if err := c.Start(context.Background()); err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = c.StopAndCancel(ctx)
	})
	return c
}

// fastRetry retries a failed job 50ms later, instead of River's seconds.
type fastRetry struct{}

func (fastRetry) NextRetry(*rivertype.JobRow) time.Time { return time.Now().Add(50 * time.Millisecond) }

type eventArgs struct {
	EventID string `json:"event_id"`
}

func (eventArgs) Kind() string { return "test_event" }

// waitState waits until job id reaches state, and returns it.
func waitState(t *testing.T, c *jobs.Client, id int64, state rivertype.JobState) *rivertype.JobRow {
	t.Helper()
	deadline := time.Now().Add(wait)
	var last *rivertype.JobRow
	for time.Now().Before(deadline) {
		job, err := c.River().JobGet(context.Background(), id)
		if err != nil {
			t.Fatalf("JobGet(%d): %v", id, err)
		}
		if job.State == state {
			return job
		}
		last = job
		time.Sleep(poll)
	}
	t.Fatalf("job %d: state %s after %s, want %s", id, last.State, wait, state)
	return nil
}

func count(t *testing.T, d bun.IDB, query string, args ...any) int {
	t.Helper()
	var n int
	if err := d.QueryRowContext(context.Background(), query, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

func TestMigratePostgresUsesServiceSchema(t *testing.T) {
	t.Parallel()
	d := open(t, "postgres")
	ctx := context.Background()
	for _, table := range []string{"river_job", "river_leader", "river_queue", "river_migration", "processed_events"} {
		var inSchema, inPublic sql.NullString
		if err := d.QueryRowContext(ctx, "SELECT to_regclass(?)::text, to_regclass(?)::text",
			schema+"."+table, "public."+table).Scan(&inSchema, &inPublic); err != nil {
			t.Fatal(err)
		}
		if !inSchema.Valid || inPublic.Valid {
			t.Errorf("%s: in %s = %v, in public = %v; want only in %s", table, schema, inSchema.Valid, inPublic.Valid, schema)
		}
	}
	if err := jobs.Migrate(ctx, d); err != nil {
		t.Errorf("second Migrate: %v", err)
	}
}

func TestInsertTxIsAnOutbox(t *testing.T) {
	t.Parallel()
	for _, engine := range dbtest.Engines {
		t.Run(engine, func(t *testing.T) {
			t.Parallel()
			d := open(t, engine)
			ctx := context.Background()
			var mu sync.Mutex
			runs := map[string]int{}
			workers := river.NewWorkers()
			river.AddWorker(workers, river.WorkFunc(func(ctx context.Context, job *river.Job[eventArgs]) error {
				mu.Lock()
				runs[job.Args.EventID]++
				mu.Unlock()
				return nil
			}))
			c := start(t, d, jobs.Config{Workers: workers})

			// A business write and its event, committed together.
			err := d.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
				if _, err := tx.ExecContext(ctx, "INSERT INTO side_effects (event_id) VALUES ('committed')"); err != nil {
					return err
				}
				return c.InsertTx(ctx, tx, eventArgs{EventID: "committed"}, nil)
			})
			if err != nil {
				t.Fatalf("committed tx: %v", err)
			}
			// And another that rolls back after publishing.
			errRollback := errors.New("business rule says no")
			err = d.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
				if _, err := tx.ExecContext(ctx, "INSERT INTO side_effects (event_id) VALUES ('rolled-back')"); err != nil {
					return err
				}
				if err := c.InsertTx(ctx, tx, eventArgs{EventID: "rolled-back"}, nil); err != nil {
					return err
				}
				return errRollback
			})
			if !errors.Is(err, errRollback) {
				t.Fatalf("rolled-back tx: %v, want %v", err, errRollback)
			}

			// Exactly one job exists; wait for it to complete, then give the
			// client time to (wrongly) find anything else.
			var id int64
			if err := d.QueryRowContext(ctx, "SELECT id FROM river_job").Scan(&id); err != nil {
				t.Fatalf("the one job: %v", err)
			}
			waitState(t, c, id, rivertype.JobStateCompleted)
			time.Sleep(10 * poll)

			mu.Lock()
			defer mu.Unlock()
			if diff := cmp.Diff(map[string]int{"committed": 1}, runs); diff != "" {
				t.Errorf("runs (-want +got):\n%s", diff)
			}
			if n := count(t, d, "SELECT count(*) FROM river_job"); n != 1 {
				t.Errorf("%d jobs in river_job, want 1", n)
			}
		})
	}
}

func TestFailedJobIsRetried(t *testing.T) {
	t.Parallel()
	for _, engine := range dbtest.Engines {
		t.Run(engine, func(t *testing.T) {
			t.Parallel()
			d := open(t, engine)
			var attempts atomic.Int32
			workers := river.NewWorkers()
			river.AddWorker(workers, river.WorkFunc(func(ctx context.Context, job *river.Job[eventArgs]) error {
				attempts.Add(1)
				if job.Attempt == 1 {
					return errors.New("carrier API is down")
				}
				return nil
			}))
			c := start(t, d, jobs.Config{Workers: workers, RetryPolicy: fastRetry{}})
			res, err := c.Insert(context.Background(), eventArgs{EventID: "e1"}, nil)
			if err != nil {
				t.Fatal(err)
			}
			job := waitState(t, c, res.Job.ID, rivertype.JobStateCompleted)
			if job.Attempt != 2 || attempts.Load() != 2 {
				t.Errorf("attempt = %d, worker ran %d times; want 2 and 2", job.Attempt, attempts.Load())
			}
			if len(job.Errors) != 1 || job.Errors[0].Error != "carrier API is down" {
				t.Errorf("errors = %+v, want the first attempt's", job.Errors)
			}
		})
	}
}

func TestOnce(t *testing.T) {
	t.Parallel()
	for _, engine := range dbtest.Engines {
		t.Run(engine, func(t *testing.T) {
			t.Parallel()
			d := open(t, engine)
			ctx := context.Background()
			once := func(consumer, id string, rollback bool) bool {
				t.Helper()
				var first bool
				errRollback := errors.New("rollback")
				err := d.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) (err error) {
					first, err = jobs.Once(ctx, tx, consumer, id)
					if err == nil && rollback {
						err = errRollback
					}
					return err
				})
				if err != nil && !errors.Is(err, errRollback) {
					t.Fatalf("Once(%s, %s): %v", consumer, id, err)
				}
				return first
			}
			steps := []struct {
				consumer, id string
				rollback     bool
				want         bool
			}{
				{"mailer", "e1", true, true},   // rolled back: not recorded
				{"mailer", "e1", false, true},  // so the retry is still the first
				{"mailer", "e1", false, false}, // a redelivery is not
				{"stock", "e1", false, true},   // another consumer has its own record
				{"mailer", "e2", false, true},
			}
			for i, s := range steps {
				if got := once(s.consumer, s.id, s.rollback); got != s.want {
					t.Errorf("step %d: Once(%s, %s) = %v, want %v", i, s.consumer, s.id, got, s.want)
				}
			}
			if err := d.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
				_, err := jobs.Once(ctx, tx, "mailer", "")
				return err
			}); err == nil {
				t.Error("Once with an empty event id: no error")
			}
		})
	}
}

func TestOnceMakesRedeliveryIdempotent(t *testing.T) {
	t.Parallel()
	for _, engine := range dbtest.Engines {
		t.Run(engine, func(t *testing.T) {
			t.Parallel()
			d := open(t, engine)
			ctx := context.Background()
			workers := river.NewWorkers()
			river.AddWorker(workers, river.WorkFunc(func(ctx context.Context, job *river.Job[eventArgs]) error {
				return d.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
					first, err := jobs.Once(ctx, tx, "side-effecter", job.Args.EventID)
					if err != nil || !first {
						return err
					}
					_, err = tx.ExecContext(ctx, "INSERT INTO side_effects (event_id) VALUES (?)", job.Args.EventID)
					return err
				})
			}))
			c := start(t, d, jobs.Config{Workers: workers})
			// The same event delivered twice (a publisher retry, a replay), and another.
			var ids []int64
			for _, ev := range []string{"order-1-paid", "order-1-paid", "order-2-paid"} {
				res, err := c.Insert(ctx, eventArgs{EventID: ev}, nil)
				if err != nil {
					t.Fatal(err)
				}
				ids = append(ids, res.Job.ID)
			}
			for _, id := range ids {
				waitState(t, c, id, rivertype.JobStateCompleted)
			}
			got := map[string]int{}
			rows, err := d.QueryContext(ctx, "SELECT event_id, count(*) FROM side_effects GROUP BY event_id")
			if err != nil {
				t.Fatal(err)
			}
			defer rows.Close()
			for rows.Next() {
				var id string
				var n int
				if err := rows.Scan(&id, &n); err != nil {
					t.Fatal(err)
				}
				got[id] = n
			}
			if err := rows.Err(); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(map[string]int{"order-1-paid": 1, "order-2-paid": 1}, got); diff != "" {
				t.Errorf("side effects (-want +got):\n%s", diff)
			}
		})
	}
}

// TestJobSurvivesCrash stops a client while its job runs, then checks a new
// client on the same database (a restarted process) completes the job.
func TestJobSurvivesCrash(t *testing.T) {
	t.Parallel()
	for _, engine := range dbtest.Engines {
		for _, mode := range []string{"stop-and-cancel", "process-death"} {
			t.Run(engine+"/"+mode, func(t *testing.T) {
				t.Parallel()
				testJobSurvivesCrash(t, engine, mode)
			})
		}
	}
}

func testJobSurvivesCrash(t *testing.T, engine, mode string) {
	ctx := context.Background()
	url := dbtest.URL(t, engine, schema, jobs.Migrations())
	openURL := func() *bun.DB {
		d, err := db.Open(ctx, url, db.Options{Schema: schema, MaxOpenConns: 10})
		if err != nil {
			t.Fatal(err)
		}
		// Closed after the clients stop (cleanups run last-in first-out).
		t.Cleanup(func() { d.Close() })
		return d
	}
	const rescueAfter = time.Second

	// The first process: its worker blocks until cancelled ("stop-and-cancel")
	// or forever, past its process's death ("process-death").
	d1 := openURL()
	migrate(t, d1)
	started := make(chan struct{})
	release := make(chan struct{})
	workers1 := river.NewWorkers()
	river.AddWorker(workers1, river.WorkFunc(func(ctx context.Context, job *river.Job[eventArgs]) error {
		close(started)
		if mode == "stop-and-cancel" {
			<-ctx.Done()
			return ctx.Err()
		}
		<-release
		return nil
	}))
	c1, err := jobs.New(d1, jobs.Config{Workers: workers1, FetchPollInterval: poll, RetryPolicy: fastRetry{}})
	if err != nil {
		t.Fatal(err)
	}
	ctx1, cancel1 := context.WithCancel(ctx)
	defer cancel1()
	if err := c1.Start(ctx1); err != nil {
		t.Fatal(err)
	}
	res, err := c1.Insert(ctx, eventArgs{EventID: "crash"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-started:
	case <-time.After(wait):
		t.Fatal("the job never started")
	}
	startedAt := time.Now()

	switch mode {
	case "stop-and-cancel":
		stopCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		if err := c1.StopAndCancel(stopCtx); err != nil {
			t.Fatalf("StopAndCancel: %v", err)
		}
	case "process-death":
		// The process loses its database mid-job: nothing it does later
		// (completing the job, resigning leadership) reaches the database.
		d1.DB.Close()
		close(release)
		cancel1()
		stopCtx, cancel := context.WithTimeout(ctx, time.Second)
		defer cancel()
		_ = c1.StopAndCancel(stopCtx)
	}

	// The restarted process.
	d2 := openURL()
	var state string
	if err := d2.QueryRowContext(ctx, "SELECT state FROM river_job WHERE id = ?", res.Job.ID).Scan(&state); err != nil {
		t.Fatal(err)
	}
	// River puts a job cancelled by StopAndCancel straight back, without
	// counting the attempt; a dead process leaves it running (stuck).
	wantState, wantAttempt := rivertype.JobStateAvailable, 1
	if mode == "process-death" {
		wantState, wantAttempt = rivertype.JobStateRunning, 2
	}
	if state != string(wantState) {
		t.Fatalf("state after the first client stopped = %s, want %s", state, wantState)
	}
	if mode == "process-death" {
		// A dead leader cannot resign; its lease would expire in ~15 s. Skip
		// the wait, and wait until the job counts as stuck.
		if _, err := d2.ExecContext(ctx, "DELETE FROM river_leader"); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Until(startedAt.Add(rescueAfter + 100*time.Millisecond)))
	}
	var ran atomic.Int32
	workers2 := river.NewWorkers()
	river.AddWorker(workers2, river.WorkFunc(func(ctx context.Context, job *river.Job[eventArgs]) error {
		ran.Add(1)
		return nil
	}))
	c2 := start(t, d2, jobs.Config{
		Workers:              workers2,
		RetryPolicy:          fastRetry{},
		JobTimeout:           rescueAfter / 2,
		RescueStuckJobsAfter: rescueAfter,
	})
	job := waitState(t, c2, res.Job.ID, rivertype.JobStateCompleted)
	if ran.Load() != 1 || job.Attempt != wantAttempt {
		t.Errorf("second client ran the job %d times, attempt %d; want 1 and %d", ran.Load(), job.Attempt, wantAttempt)
	}
	t.Logf("completed %s after the first start, errors: %s", time.Since(startedAt).Round(time.Millisecond), fmtErrors(job.Errors))
}

func fmtErrors(errs []rivertype.AttemptError) string {
	s := ""
	for _, e := range errs {
		s += fmt.Sprintf("[attempt %d: %s] ", e.Attempt, e.Error)
	}
	return s
}

func TestMigrateWith(t *testing.T) {
	t.Parallel()
	service := fstest.MapFS{"0001_widgets.sql": {Data: []byte("CREATE TABLE widgets (id TEXT PRIMARY KEY);")}}
	broken := fstest.MapFS{"0001_broken.sql": {Data: []byte("CREATE TABLE;")}}
	for _, engine := range dbtest.Engines {
		t.Run(engine, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			d := dbtest.Open(t, engine, schema, fstest.MapFS{})
			migrate := jobs.MigrateWith("widget", service)
			applied, err := migrate(ctx, d)
			if err != nil {
				t.Fatalf("first migrate: %v", err)
			}
			if diff := cmp.Diff([]string{"0001_widgets", "audit_0001_log"}, applied); diff != "" {
				t.Errorf("first migrate applied (-want +got):\n%s", diff)
			}
			for _, table := range []string{"widgets", "audit_log", "audit_head", "river_job", "processed_events"} {
				if _, err := d.NewSelect().TableExpr(table).ColumnExpr("1").Limit(1).Exec(ctx); err != nil {
					t.Errorf("table %s after migrate: %v", table, err)
				}
			}
			if applied, err = migrate(ctx, d); err != nil || len(applied) != 0 {
				t.Errorf("second migrate = %v, %v; want nothing applied", applied, err)
			}
			_, err = jobs.MigrateWith("widget", broken)(ctx, dbtest.Open(t, engine, schema, fstest.MapFS{}))
			if err == nil || !strings.HasPrefix(err.Error(), "widget migrations: ") {
				t.Errorf("broken migrate: err = %v, want one starting with %q", err, "widget migrations: ")
			}
		})
	}
}

// On SQLite River's notifications stay in memory (wake.go): a job inserted
// in a transaction is worked at once although the producer polls only
// every hour, and River's notification table is never written or read.
// reportingWorkers work eventArgs jobs by sending their event ids to done.
func reportingWorkers() (workers *river.Workers, done <-chan string) {
	ch := make(chan string, 10)
	workers = river.NewWorkers()
	river.AddWorker(workers, river.WorkFunc(func(ctx context.Context, job *river.Job[eventArgs]) error {
		ch <- job.Args.EventID
		return nil
	}))
	return workers, ch
}

// worked waits for the next job reported on done, which must be id's; why
// says how it should have been found.
func worked(t *testing.T, done <-chan string, id, why string) {
	t.Helper()
	select {
	case got := <-done:
		if got != id {
			t.Fatalf("worked %q, want %q", got, id)
		}
	case <-time.After(wait):
		t.Fatalf("job %q not worked after %s (%s)", id, wait, why)
	}
}

func TestSQLiteJobsAreWokenWithoutPolling(t *testing.T) {
	t.Parallel()
	d := open(t, "sqlite")
	ctx := context.Background()
	workers, done := reportingWorkers()
	// Parking (TestSQLiteClientParksWhileIdle) would wake the client on
	// each insert too; this test is about River's own notifications.
	c := start(t, d, jobs.Config{Workers: workers, FetchPollInterval: time.Hour, ParkAfter: -1})
	publish := func(id string) {
		t.Helper()
		err := d.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
			return c.InsertTx(ctx, tx, eventArgs{EventID: id}, nil)
		})
		if err != nil {
			t.Fatalf("publish %s: %v", id, err)
		}
	}
	// The first job may be found by the producer's first fetch, at start;
	// each later one only by a notification. River sends at most one insert
	// notification per queue per fetch cooldown (100 ms by default) and
	// leaves a job inserted sooner to the poll, on any engine; the jobs here
	// are further apart.
	for i, id := range []string{"first", "second", "third"} {
		if i > 0 {
			time.Sleep(3 * river.FetchCooldownDefault)
		}
		publish(id)
		worked(t, done, id, "the next poll is an hour away")
	}
	if n := count(t, d, "SELECT count(*) FROM river_notification"); n != 0 {
		t.Errorf("%d rows in river_notification, want 0", n)
	}
}

func TestSQLiteClientParksWhileIdle(t *testing.T) {
	t.Parallel()
	d := open(t, "sqlite")
	ctx := context.Background()
	workers, done := reportingWorkers()
	const parkAfter = 300 * time.Millisecond
	c := start(t, d, jobs.Config{Workers: workers, ParkAfter: parkAfter})

	// parked waits until the client has parked, and checks that River is
	// really stopped: a running client on SQLite is its own leader.
	parked := func(why string) {
		t.Helper()
		deadline := time.Now().Add(wait)
		for !c.Parked() {
			if time.Now().After(deadline) {
				t.Fatalf("%s: not parked after %s (ParkAfter %s)", why, wait, parkAfter)
			}
			time.Sleep(poll)
		}
		if n := count(t, d, "SELECT count(*) FROM river_leader"); n != 0 {
			t.Fatalf("%s: parked, but %d leader rows: River still runs", why, n)
		}
	}

	parked("nothing to do after start")
	start := time.Now()
	err := d.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		return c.InsertTx(ctx, tx, eventArgs{EventID: "inserted"}, nil)
	})
	if err != nil {
		t.Fatal(err)
	}
	worked(t, done, "inserted", "an insert by this process wakes the client")
	if waited := time.Since(start); waited > 2*time.Second {
		t.Errorf("the inserted job ran %s after its insert", waited)
	}

	// A job another client queues on the same database (emporium seed
	// beside a running dev) wakes nothing: the parked client's poll finds it.
	parked("after the inserted job")
	other, err := jobs.New(d, jobs.Config{}) // insert-only
	if err != nil {
		t.Fatal(err)
	}
	if _, err := other.Insert(ctx, eventArgs{EventID: "from elsewhere"}, nil); err != nil {
		t.Fatal(err)
	}
	worked(t, done, "from elsewhere", "found by the parked client's poll")

	// A job scheduled for later does not keep the client running; it runs
	// once due.
	parked("after the other client's job")
	due := time.Now().Add(time.Second)
	if _, err := c.Insert(ctx, eventArgs{EventID: "scheduled"}, &river.InsertOpts{ScheduledAt: due}); err != nil {
		t.Fatal(err)
	}
	// The insert wakes the client (it cannot know the job is for later)…
	for deadline := time.Now().Add(wait); c.Parked(); time.Sleep(poll / 5) {
		if time.Now().After(deadline) {
			t.Fatalf("still parked %s after an insert", wait)
		}
	}
	// …which parks again, the job being more than ParkAfter away.
	parked("a job due in a second, more than ParkAfter away")
	worked(t, done, "scheduled", "due while parked")
	if early := time.Until(due); early > 0 {
		t.Errorf("the scheduled job ran %s before its time", early)
	}
	parked("after the scheduled job")
}
