-- Payments mirror the provider's payment intents: one per CreatePayment
-- idempotency key. Money is minor units; times are Unix microseconds.
-- No payment method (card number, token) is ever stored.
CREATE TABLE payments (
    id                  TEXT PRIMARY KEY,
    order_id            TEXT NOT NULL,
    amount              BIGINT NOT NULL CHECK (amount > 0),
    currency            TEXT NOT NULL,
    status              SMALLINT NOT NULL,
    provider            TEXT NOT NULL,
    provider_payment_id TEXT NOT NULL UNIQUE,
    client_secret       TEXT NOT NULL,
    next_action_url     TEXT NOT NULL,
    last_error          TEXT NOT NULL,
    -- Held by refunds, succeeded or still in flight at the provider; a
    -- guarded update keeps it within amount.
    refunded            BIGINT NOT NULL DEFAULT 0,
    -- The part of refunded still in flight: Payment.refunded, the sum of
    -- succeeded refunds, is refunded - refund_pending.
    refund_pending      BIGINT NOT NULL DEFAULT 0,
    idempotency_key     TEXT NOT NULL UNIQUE,
    request_hash        TEXT NOT NULL,
    version             BIGINT NOT NULL,
    created_at          BIGINT NOT NULL,
    updated_at          BIGINT NOT NULL,
    CHECK (refund_pending >= 0 AND refund_pending <= refunded AND refunded <= amount)
);

CREATE INDEX payments_order ON payments (order_id);

-- Refunds are recorded as pending before the provider is asked, so a crash
-- in between leaves a record that the refund job finishes.
CREATE TABLE refunds (
    id                 TEXT PRIMARY KEY,
    payment_id         TEXT NOT NULL REFERENCES payments (id),
    amount             BIGINT NOT NULL CHECK (amount > 0),
    reason             TEXT NOT NULL,
    status             SMALLINT NOT NULL,
    provider_refund_id TEXT NOT NULL,
    idempotency_key    TEXT NOT NULL UNIQUE,
    request_hash       TEXT NOT NULL,
    created_at         BIGINT NOT NULL,
    updated_at         BIGINT NOT NULL
);

CREATE INDEX refunds_payment ON refunds (payment_id);

-- Provider webhook events already handled, recorded in the transaction of
-- their effect: a redelivered event changes nothing.
CREATE TABLE webhook_events (
    id          TEXT PRIMARY KEY,
    type        TEXT NOT NULL,
    received_at BIGINT NOT NULL
);
