package jobs

import (
	"context"
	"database/sql"
	"errors"
	"sync"

	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riversqlite"
)

// SQLite has no LISTEN/NOTIFY. River's SQLite driver emulates it with a
// table: a notification (a job was inserted in queue q; a queue was paused)
// is a row in river_notification, and every client's listener reads that
// table every 50 ms, a constant of the driver. In an idle `emporium dev`,
// with one client per service, those reads were most of the CPU it spent
// (docs/benchmarks.md, "Idle cost").
//
// A SQLite database here is one process's: the pool has one connection
// (db.Open) and dev runs every service in one process. So the notifications
// go from River's NotifyMany straight to the listeners of the same client,
// in memory, and no table is read. A notification is sent from inside the
// transaction that inserted the job, before it commits; that is safe
// because the producer it wakes fetches jobs through the same one-connection
// pool, so its fetch runs after the transaction ends and sees the job (after
// a rollback it finds nothing, which costs one fetch). A job inserted by
// another process, or by another client on the same file (emporium seed
// beside a running dev), is found by the producer's poll instead
// (Config.FetchPollInterval, dev's --job-poll), as on PostgreSQL. River's
// job cancellation notifies through its table, not NotifyMany, so a running
// job learns it was cancelled from the producer's own check, once a minute
// (nothing here cancels running jobs).
type sqliteDriver struct {
	*riversqlite.Driver
	hub *wakeHub
}

func newSQLiteDriver(db *sql.DB) sqliteDriver {
	return sqliteDriver{Driver: riversqlite.New(db), hub: &wakeHub{}}
}

func (d sqliteDriver) GetExecutor() riverdriver.Executor {
	return wakeExecutor{d.Driver.GetExecutor(), d.hub}
}

func (d sqliteDriver) GetListener(params *riverdriver.GetListenenerParams) riverdriver.Listener {
	return d.hub.listener(params.Schema)
}

func (d sqliteDriver) UnwrapExecutor(tx *sql.Tx) riverdriver.ExecutorTx {
	return d.hub.tx(d.Driver.UnwrapExecutor(tx))
}

func (d sqliteDriver) UnwrapTx(execTx riverdriver.ExecutorTx) *sql.Tx {
	if w, ok := execTx.(wakeExecutorTx); ok {
		execTx = w.tx
	}
	return d.Driver.UnwrapTx(execTx)
}

// wakeExecutor is the driver's executor with NotifyMany delivered in
// memory, and so are the transactions it begins.
type wakeExecutor struct {
	riverdriver.Executor
	hub *wakeHub
}

func (e wakeExecutor) Begin(ctx context.Context) (riverdriver.ExecutorTx, error) {
	tx, err := e.Executor.Begin(ctx)
	if err != nil {
		return nil, err
	}
	return e.hub.tx(tx), nil
}

func (e wakeExecutor) NotifyMany(_ context.Context, params *riverdriver.NotifyManyParams) error {
	e.hub.publish(params.Topic, params.Payload)
	return nil
}

// wakeExecutorTx is a transaction's wakeExecutor, which also commits and
// rolls back.
type wakeExecutorTx struct {
	wakeExecutor
	tx riverdriver.ExecutorTx
}

func (h *wakeHub) tx(tx riverdriver.ExecutorTx) wakeExecutorTx {
	return wakeExecutorTx{wakeExecutor{tx, h}, tx}
}

func (e wakeExecutorTx) Commit(ctx context.Context) error   { return e.tx.Commit(ctx) }
func (e wakeExecutorTx) Rollback(ctx context.Context) error { return e.tx.Rollback(ctx) }

// wakeHub passes one client's notifications to its listeners.
type wakeHub struct {
	mu        sync.Mutex
	listeners []*wakeListener
}

// wakeBuffer is how many notifications a listener holds undelivered. River's
// notifier takes each at once into a buffer of its own; if both are full,
// one more is dropped, as River's notifier drops one, and the job it
// announced waits for the next poll.
const wakeBuffer = 256

func (h *wakeHub) listener(schema string) *wakeListener {
	l := &wakeListener{schema: schema, ch: make(chan *riverdriver.Notification, wakeBuffer)}
	h.mu.Lock()
	h.listeners = append(h.listeners, l)
	h.mu.Unlock()
	return l
}

func (h *wakeHub) publish(topic string, payloads []string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, l := range h.listeners {
		l.deliver(topic, payloads)
	}
}

// wakeListener is River's listener for one client on SQLite. River's
// notifier closes and reconnects its listener every few seconds (a health
// check meant for a PostgreSQL connection), then listens to its topics
// again; the subscriptions are kept across that so a notification sent in
// between waits in the buffer instead of being lost.
type wakeListener struct {
	schema string
	ch     chan *riverdriver.Notification

	mu        sync.Mutex
	connected bool
	topics    map[string]bool
}

var errNotConnected = errors.New("jobs: listener is not connected")

func (l *wakeListener) deliver(topic string, payloads []string) {
	l.mu.Lock()
	listening := l.topics[topic]
	l.mu.Unlock()
	if !listening {
		return
	}
	for _, p := range payloads {
		select {
		case l.ch <- &riverdriver.Notification{Topic: topic, Payload: p}:
		default: // full: see wakeBuffer
		}
	}
}

func (l *wakeListener) Connect(context.Context) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.connected {
		return errors.New("jobs: listener already connected")
	}
	l.connected = true
	return nil
}

func (l *wakeListener) Close(context.Context) error {
	l.mu.Lock()
	l.connected = false
	l.mu.Unlock()
	return nil
}

func (l *wakeListener) Listen(_ context.Context, topic string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.connected {
		return errNotConnected
	}
	if l.topics == nil {
		l.topics = make(map[string]bool)
	}
	l.topics[topic] = true
	return nil
}

func (l *wakeListener) Unlisten(_ context.Context, topic string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.connected {
		return errNotConnected
	}
	delete(l.topics, topic)
	return nil
}

func (l *wakeListener) Ping(context.Context) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.connected {
		return errNotConnected
	}
	return nil
}

func (l *wakeListener) Schema() string { return l.schema }

// SetAfterConnectExec is for River's own tests of SQL listeners; an
// in-memory listener runs no SQL.
func (l *wakeListener) SetAfterConnectExec(string) {}

func (l *wakeListener) WaitForNotification(ctx context.Context) (*riverdriver.Notification, error) {
	select {
	case n := <-l.ch:
		return n, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

var _ riverdriver.Driver[*sql.Tx] = sqliteDriver{}
