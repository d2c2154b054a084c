-- The audit log: one hash-chained row per recorded call (see
-- internal/platform/audit). audit_head holds the end of the chain; writers
-- lock its one row, so replicas append one after another.
CREATE TABLE audit_log (
    seq          BIGINT PRIMARY KEY,
    time_us      BIGINT NOT NULL,
    actor        TEXT NOT NULL,
    actor_roles  TEXT NOT NULL,
    procedure    TEXT NOT NULL,
    target_id    TEXT NOT NULL,
    request_json TEXT NOT NULL,
    code         TEXT NOT NULL,
    trace_id     TEXT NOT NULL,
    prev_hash    TEXT NOT NULL,
    hash         TEXT NOT NULL
);
CREATE INDEX audit_log_actor ON audit_log (actor, seq);
CREATE INDEX audit_log_target ON audit_log (target_id, seq);
CREATE INDEX audit_log_time ON audit_log (time_us, seq);
CREATE TABLE audit_head (
    id   INTEGER PRIMARY KEY CHECK (id = 1),
    seq  BIGINT NOT NULL,
    hash TEXT NOT NULL
);
INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');
-- Append-only: the service's own connections can neither change nor
-- delete an entry (whoever can drop the trigger can; the hash chain then
-- shows it).
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
