-- Stock held for checkouts: units leave variants.stock when held, come back
-- when released or expired, and stay gone when committed.
CREATE TABLE stock_reservations (
    id              TEXT PRIMARY KEY,
    status          SMALLINT NOT NULL,
    idempotency_key TEXT NOT NULL UNIQUE,
    request_hash    TEXT NOT NULL,
    expires_at      BIGINT NOT NULL,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL
);

CREATE INDEX stock_reservations_expiry ON stock_reservations (status, expires_at);

CREATE TABLE stock_reservation_items (
    reservation_id TEXT NOT NULL REFERENCES stock_reservations (id) ON DELETE CASCADE,
    sku            TEXT NOT NULL,
    quantity       BIGINT NOT NULL CHECK (quantity > 0),
    PRIMARY KEY (reservation_id, sku)
);
