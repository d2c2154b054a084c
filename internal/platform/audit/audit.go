// Package audit keeps a service's audit log: every mutation of a staff or
// admin RPC (what people do in the back office), recorded by one Connect
// interceptor right after the access check, in the service's own database.
//
// The log is append-only and hash-chained: each entry carries the SHA-256 of
// the previous one and its own SHA-256 over a canonical encoding of its
// fields, so an entry edited, deleted or slipped in afterwards breaks the
// chain where it happened, and Verify (`emporium audit verify`) finds it.
// Writers lock the chain head, a single row, so that several replicas on
// one PostgreSQL database still append one chain.
//
// What is recorded (see docs/audit.md): the actor and their roles, the
// procedure, the target (the request's id field, see TargetOf), the request
// as JSON with secrets and card data redacted (see RedactedJSON), the result
// code, the trace id and the time. Reads (RPCs marked NO_SIDE_EFFECTS) and
// customer, public and internal RPCs are not recorded.
package audit

import (
	"context"
	"crypto/sha256"
	"embed"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io/fs"
	"strconv"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"github.com/emporiumhq/emporium/internal/platform/db"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// Migrations are the audit log's tables, which every service's database
// has; their versions start with "audit_" so they share schema_migrations
// with the service's own.
var Migrations, _ = fs.Sub(migrationFiles, "migrations")

// Migrate creates or updates the audit log's tables in d.
func Migrate(ctx context.Context, d *bun.DB) ([]string, error) {
	return db.Migrate(ctx, d, Migrations)
}

// GenesisHash is the prev_hash of the first entry.
var GenesisHash = strings.Repeat("0", 64)

// Entry is one recorded call.
type Entry struct {
	bun.BaseModel `bun:"table:audit_log"`

	Seq        int64  `bun:"seq,pk"`
	TimeMicros int64  `bun:"time_us"` // Unix microseconds, so both engines keep it exactly
	Actor      string `bun:"actor"`
	ActorRoles string `bun:"actor_roles"` // comma-separated
	Procedure  string `bun:"procedure"`
	TargetID   string `bun:"target_id"`
	Request    string `bun:"request_json"`
	Code       string `bun:"code"`
	TraceID    string `bun:"trace_id"`
	PrevHash   string `bun:"prev_hash"`
	Hash       string `bun:"hash"`
}

// Time is when the call finished.
func (e *Entry) Time() time.Time { return time.UnixMicro(e.TimeMicros).UTC() }

// Roles are the caller's roles.
func (e *Entry) Roles() []string {
	if e.ActorRoles == "" {
		return nil
	}
	return strings.Split(e.ActorRoles, ",")
}

// ComputeHash is the entry's SHA-256, hex-encoded, over its canonical
// encoding: a version tag, then every field but Hash in a fixed order, each
// as its length (uvarint) and bytes, so no two different entries encode
// alike.
func (e *Entry) ComputeHash() string {
	h := sha256.New()
	var buf [binary.MaxVarintLen64]byte
	for _, field := range []string{
		"emporium.audit.v1",
		strconv.FormatInt(e.Seq, 10),
		strconv.FormatInt(e.TimeMicros, 10),
		e.Actor, e.ActorRoles, e.Procedure, e.TargetID, e.Request, e.Code, e.TraceID,
		e.PrevHash,
	} {
		h.Write(buf[:binary.PutUvarint(buf[:], uint64(len(field)))])
		h.Write([]byte(field))
	}
	return hex.EncodeToString(h.Sum(nil))
}

// Log is one service's audit log.
type Log struct {
	db      *bun.DB
	service string
	now     func() time.Time
}

// New returns the audit log of service in d, whose tables Migrate made.
func New(d *bun.DB, service string) *Log {
	return &Log{db: d, service: service, now: time.Now}
}

// Service names the service whose log this is.
func (l *Log) Service() string { return l.service }

// Append adds e at the end of the chain, filling in its Seq, PrevHash, Hash
// and, when zero, its time. Appends are serialized on the chain head: a
// row lock on PostgreSQL (every replica waits for it), the write lock that
// SQLite's immediate transactions take.
func (l *Log) Append(ctx context.Context, e *Entry) error {
	if e.TimeMicros == 0 {
		e.TimeMicros = l.now().UnixMicro()
	}
	return l.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		q := "SELECT seq, hash FROM audit_head WHERE id = 1"
		if db.IsPostgres(l.db) {
			q += " FOR UPDATE"
		}
		var headSeq int64
		var headHash string
		if err := tx.QueryRowContext(ctx, q).Scan(&headSeq, &headHash); err != nil {
			return fmt.Errorf("audit head: %w", err)
		}
		e.Seq, e.PrevHash = headSeq+1, headHash
		e.Hash = e.ComputeHash()
		if _, err := tx.NewInsert().Model(e).Exec(ctx); err != nil {
			return fmt.Errorf("audit entry: %w", err)
		}
		if _, err := tx.ExecContext(ctx, "UPDATE audit_head SET seq = ?, hash = ? WHERE id = 1", e.Seq, e.Hash); err != nil {
			return fmt.Errorf("audit head: %w", err)
		}
		return nil
	})
}

// Filter selects entries; zero fields select everything.
type Filter struct {
	Actor string
	// Procedure is a full procedure ("/pkg.Service/Method") or a method
	// name ("Method").
	Procedure string
	TargetID  string
	Code      string
	// Start is inclusive, End exclusive.
	Start, End time.Time
	// Before, when not 0, selects entries with a smaller Seq (the page
	// after one that ended at Before).
	Before int64
}

// List returns up to limit entries matching f, newest first.
func (l *Log) List(ctx context.Context, f Filter, limit int) ([]Entry, error) {
	var out []Entry
	q := l.db.NewSelect().Model(&out).OrderExpr("seq DESC").Limit(int64(limit))
	if f.Actor != "" {
		q = q.Where("actor = ?", f.Actor)
	}
	switch {
	case strings.HasPrefix(f.Procedure, "/"):
		q = q.Where("procedure = ?", f.Procedure)
	case f.Procedure != "":
		q = q.Where(`procedure LIKE ? ESCAPE '\'`, "%/"+escapeLike(f.Procedure))
	}
	if f.TargetID != "" {
		q = q.Where("target_id = ?", f.TargetID)
	}
	if f.Code != "" {
		q = q.Where("code = ?", f.Code)
	}
	if !f.Start.IsZero() {
		q = q.Where("time_us >= ?", f.Start.UnixMicro())
	}
	if !f.End.IsZero() {
		q = q.Where("time_us < ?", f.End.UnixMicro())
	}
	if f.Before > 0 {
		q = q.Where("seq < ?", f.Before)
	}
	if err := q.Scan(ctx); err != nil {
		return nil, err
	}
	return out, nil
}

func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// Break is a place where the chain does not hold.
type Break struct {
	Seq    int64
	Reason string
}

// Report is the result of Verify.
type Report struct {
	Service string
	Entries int64 // entries read
	// Head is the chain head as stored: the last entry's seq and hash.
	// Keeping HeadHash somewhere else lets a later Verify prove that the
	// log was not rewritten from that point back.
	HeadSeq  int64
	HeadHash string
	Breaks   []Break
}

// verifyBatch is how many entries Verify reads at a time.
const verifyBatch = 1000

// Verify walks the whole chain in order and reports every break: an entry
// whose content does not match its hash (edited), whose prev_hash is not
// the hash of the entry before it (edited, or slipped in), a gap in the
// sequence (deleted), and a head that does not point at the last entry
// (entries deleted from the end, or the head moved).
func (l *Log) Verify(ctx context.Context) (*Report, error) {
	r := &Report{Service: l.service}
	if err := l.db.QueryRowContext(ctx, "SELECT seq, hash FROM audit_head WHERE id = 1").Scan(&r.HeadSeq, &r.HeadHash); err != nil {
		return nil, fmt.Errorf("audit head: %w", err)
	}
	prevSeq, prevHash := int64(0), GenesisHash
	for {
		var batch []Entry
		if err := l.db.NewSelect().Model(&batch).Where("seq > ?", prevSeq).OrderExpr("seq ASC").Limit(int64(verifyBatch)).Scan(ctx); err != nil {
			return nil, err
		}
		for _, e := range batch {
			r.Entries++
			switch {
			case e.Seq == prevSeq+1 && e.PrevHash != prevHash:
				r.Breaks = append(r.Breaks, Break{e.Seq, fmt.Sprintf("prev_hash is not the hash of entry %d: an entry was edited or inserted", prevSeq)})
			case e.Seq == prevSeq+2:
				r.Breaks = append(r.Breaks, Break{e.Seq, fmt.Sprintf("entry %d is missing: deleted", prevSeq+1)})
			case e.Seq > prevSeq+2:
				r.Breaks = append(r.Breaks, Break{e.Seq, fmt.Sprintf("entries %d to %d are missing: deleted", prevSeq+1, e.Seq-1)})
			}
			if got := e.ComputeHash(); got != e.Hash {
				r.Breaks = append(r.Breaks, Break{e.Seq, "the entry's content does not match its hash: edited"})
			}
			prevSeq, prevHash = e.Seq, e.Hash
		}
		if len(batch) < verifyBatch {
			break
		}
	}
	switch {
	case r.HeadSeq > prevSeq:
		r.Breaks = append(r.Breaks, Break{r.HeadSeq, fmt.Sprintf("the chain head is entry %d but the log ends at entry %d: entries deleted from the end", r.HeadSeq, prevSeq)})
	case r.HeadSeq != prevSeq || r.HeadHash != prevHash:
		r.Breaks = append(r.Breaks, Break{prevSeq, fmt.Sprintf("the chain head (entry %d) does not match the last entry (%d): the head was moved", r.HeadSeq, prevSeq)})
	}
	return r, nil
}
