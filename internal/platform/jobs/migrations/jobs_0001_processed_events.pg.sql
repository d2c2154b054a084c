-- Events a consumer has already handled: Once inserts (consumer, event_id)
-- in the consumer's transaction, so a redelivered event is a no-op.
CREATE TABLE processed_events (
    consumer TEXT NOT NULL,
    event_id TEXT NOT NULL,
    at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (consumer, event_id)
);
CREATE INDEX processed_events_at ON processed_events (at);
