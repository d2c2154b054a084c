package jobs

import (
	"context"
	"database/sql"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	"github.com/uptrace/bun"
)

// A running River client is never quite idle: its completer ticks every
// 50 ms whether or not a job ran, and as leader it runs the scheduler,
// rescuer and cleaner every few seconds. `emporium dev` runs one client per
// service, so at rest those wake-ups were most of the CPU it spent
// (docs/benchmarks.md, "Idle cost").
//
// So on SQLite, where a database is this process's alone (wake.go), a
// client with nothing to do parks: after Config.ParkAfter with no job
// running or inserted, and none due within as long, it stops (River's Stop:
// the completer writes what it holds first), and a parker goroutine keeps
// watch instead. It starts the client again at once when this process
// inserts a job (Insert, InsertTx), and otherwise asks the database every
// FetchPollInterval whether a job is due: one that another process queued,
// a retry whose time has come, a scheduled job (an order's expiry), or one
// left running by a process that died (for the rescuer). A scheduled job
// therefore runs within about FetchPollInterval plus River's scheduler
// interval (5 s) of its time: at most one poll later than with the client
// running.
//
// A client with periodic jobs never parks: River's periodic enqueuer counts
// each job's interval from the client's start, so a client restarted more
// often than the interval would never run it.

// DefaultParkAfter is Config.ParkAfter on SQLite when it is zero.
const DefaultParkAfter = 10 * time.Second

// activity is the worker middleware that tells the parker whether jobs run.
type activity struct {
	river.MiddlewareDefaults
	running atomic.Int64
	last    atomic.Int64 // unix nanoseconds of the last job's start or end, or insert
}

func (a *activity) touch() { a.last.Store(time.Now().UnixNano()) }

func (a *activity) Work(ctx context.Context, _ *rivertype.JobRow, doInner func(context.Context) error) error {
	a.running.Add(1)
	a.touch()
	defer func() {
		a.touch()
		a.running.Add(-1)
	}()
	return doInner(ctx)
}

// parker starts and stops one client's River client; its loop is the only
// goroutine that does, from Start until halt.
type parker struct {
	rc     *river.Client[*sql.Tx]
	db     *bun.DB
	queues []string
	after  time.Duration // idle this long, nothing due as soon: park
	poll   time.Duration // while parked, look for due jobs this often
	log    *slog.Logger

	act  activity
	kick chan struct{} // an insert: start if parked

	parked atomic.Bool // Client.Parked: River is stopped until there is work

	// dueStmt is due's query, prepared on the loop's first look and closed
	// when the loop ends: a parked client asks it every poll, and parsing
	// it was most of what an idle dev spent.
	dueStmt *sql.Stmt

	mu     sync.Mutex
	cancel context.CancelFunc // ends the loop
	done   chan struct{}      // closed when the loop has returned
}

func newParker(d *bun.DB, queues []string, after, poll time.Duration, log *slog.Logger) *parker {
	if poll <= 0 {
		poll = river.FetchPollIntervalDefault
	}
	return &parker{db: d, queues: queues, after: after, poll: poll, log: log, kick: make(chan struct{}, 1)}
}

// inserted records an insert by this process and wakes a parked client.
func (p *parker) inserted() {
	p.act.touch()
	select {
	case p.kick <- struct{}{}:
	default: // a wake-up is already pending
	}
}

// start starts the River client and the loop that parks it.
func (p *parker) start(ctx context.Context) error {
	p.act.touch()
	p.parked.Store(false)
	if err := p.rc.Start(ctx); err != nil {
		return err
	}
	loopCtx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	p.mu.Lock()
	p.cancel, p.done = cancel, done
	p.mu.Unlock()
	go func() {
		defer close(done)
		p.loop(ctx, loopCtx)
	}()
	return nil
}

// halt ends the loop and waits for it, leaving the River client as it is
// (running or parked) for the caller to stop.
func (p *parker) halt() {
	p.mu.Lock()
	cancel, done := p.cancel, p.done
	p.cancel, p.done = nil, nil
	p.mu.Unlock()
	if cancel == nil {
		return
	}
	cancel()
	<-done
	p.parked.Store(false) // stopped, not parked: Start begins again
}

// loop alternates between watching a running client for idleness and
// watching a parked one for work. startCtx is the context Start was given,
// which River's Start needs again on each restart; loopCtx ends the loop.
func (p *parker) loop(startCtx, loopCtx context.Context) {
	check := time.NewTimer(p.after)
	defer check.Stop()
	defer func() {
		if p.dueStmt != nil {
			p.dueStmt.Close()
			p.dueStmt = nil
		}
	}()
	for {
		if !p.parked.Load() {
			select {
			case <-loopCtx.Done():
				return
			case <-p.kick: // a job was inserted: not idle
				continue
			case <-check.C:
			}
			idle := time.Since(time.Unix(0, p.act.last.Load()))
			if p.act.running.Load() > 0 || idle < p.after || p.due(loopCtx, p.after) {
				check.Reset(max(p.after-idle, p.after/4))
				continue
			}
			if err := p.rc.Stop(loopCtx); err != nil {
				check.Reset(p.after) // halted mid-stop: the caller stops it
				continue
			}
			p.parked.Store(true)
			check.Reset(p.poll)
			continue
		}
		select {
		case <-loopCtx.Done():
			return
		case <-p.kick:
		case <-check.C:
			if !p.due(loopCtx, p.poll) {
				check.Reset(p.poll)
				continue
			}
		}
		p.act.touch()
		p.parked.Store(false) // Parked is true only while River is stopped
		if err := p.rc.Start(startCtx); err != nil {
			// The database failed, or the start context ended (and with
			// it the loop): try again after a poll.
			if loopCtx.Err() == nil {
				p.log.ErrorContext(loopCtx, "jobs: starting a parked client", "error", err)
			}
			p.parked.Store(true)
			check.Reset(p.poll)
			continue
		}
		check.Reset(p.after)
	}
}

// due reports whether one of the client's queues has a job to run now or
// within d: available, scheduled or waiting to be retried by then, or
// running (left by a process that died, for the rescuer). On an error it
// reports true, so the client runs and River reports the error.
func (p *parker) due(ctx context.Context, within time.Duration) bool {
	if p.dueStmt == nil {
		stmt, err := p.db.DB.PrepareContext(ctx, dueQuery(len(p.queues)))
		if err != nil {
			return true // as for any failed look: let River's own fetch find out
		}
		p.dueStmt = stmt
	}
	args := make([]any, 0, 1+len(p.queues))
	args = append(args, time.Now().Add(within).UTC().Round(time.Millisecond).Format(sqliteTime))
	for _, q := range p.queues {
		args = append(args, q)
	}
	var due bool
	err := p.dueStmt.QueryRowContext(ctx, args...).Scan(&due)
	return err != nil || due
}

// dueQuery asks whether a job of any of n queues (?2 to ?n+1) is
// available, running (left by a dead process, for the rescuer), or
// scheduled or retryable by a time (?1): one probe of River's fetch index
// per state and queue. An IN list instead makes SQLite build an ephemeral
// table for it on every run, which in modernc's SQLite cost most of the
// query.
func dueQuery(n int) string {
	terms := make([]string, 0, 4*n)
	for i := range n {
		q := "?" + strconv.Itoa(i+2)
		terms = append(terms,
			"EXISTS (SELECT 1 FROM river_job WHERE state = 'available' AND queue = "+q+")",
			"EXISTS (SELECT 1 FROM river_job WHERE state = 'running' AND queue = "+q+")",
			"EXISTS (SELECT 1 FROM river_job WHERE state = 'scheduled' AND queue = "+q+" AND scheduled_at <= ?1)",
			"EXISTS (SELECT 1 FROM river_job WHERE state = 'retryable' AND queue = "+q+" AND scheduled_at <= ?1)")
	}
	return "SELECT " + strings.Join(terms, " OR ")
}

// sqliteTime is how River's SQLite driver writes times; SQLite compares
// them as text, so a bound must be written the same way.
const sqliteTime = "2006-01-02 15:04:05.000"
