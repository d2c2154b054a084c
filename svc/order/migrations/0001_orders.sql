-- Carts, discount codes, orders and their history. Portable between SQLite
-- and PostgreSQL; times are Unix microseconds (UTC); money is minor units.

-- A signed-in shopper has one cart (customer_id); a guest cart is found by
-- the SHA-256 of its token, never the token itself. merged_into retires a
-- guest cart merged on sign-in.
CREATE TABLE carts (
    id            TEXT PRIMARY KEY,
    customer_id   TEXT UNIQUE,
    token_hash    TEXT UNIQUE,
    discount_code TEXT NOT NULL DEFAULT '',
    merged_into   TEXT,
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL
);

CREATE TABLE cart_lines (
    cart_id  TEXT NOT NULL REFERENCES carts (id) ON DELETE CASCADE,
    sku      TEXT NOT NULL,
    quantity BIGINT NOT NULL CHECK (quantity > 0),
    added_at BIGINT NOT NULL,
    PRIMARY KEY (cart_id, sku)
);

CREATE TABLE discounts (
    id              TEXT PRIMARY KEY,
    code            TEXT NOT NULL UNIQUE,
    description     TEXT NOT NULL DEFAULT '',
    kind            SMALLINT NOT NULL,
    percent_off     INTEGER NOT NULL DEFAULT 0,
    amount_off      BIGINT NOT NULL DEFAULT 0,
    min_subtotal    BIGINT NOT NULL DEFAULT 0,
    currency        TEXT NOT NULL,
    max_redemptions BIGINT NOT NULL DEFAULT 0,
    redemptions     BIGINT NOT NULL DEFAULT 0 CHECK (redemptions >= 0),
    starts_at       BIGINT NOT NULL,
    ends_at         BIGINT,
    active          BOOLEAN NOT NULL,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL
);

CREATE INDEX discounts_newest ON discounts (created_at, id);

-- An order, with what it was priced at frozen. Its lines (immutable) and
-- status history (appended under the row's lock) are JSON arrays in the
-- row, so reading or changing an order is one statement. (customer_id,
-- idempotency_key) makes a retried Checkout find its order.
CREATE TABLE orders (
    id               TEXT PRIMARY KEY,
    number           TEXT NOT NULL UNIQUE,
    customer_id      TEXT NOT NULL,
    status           SMALLINT NOT NULL,
    currency         TEXT NOT NULL,
    subtotal         BIGINT NOT NULL,
    discount_id      TEXT NOT NULL DEFAULT '',
    discount_code    TEXT NOT NULL DEFAULT '',
    discount_total   BIGINT NOT NULL DEFAULT 0,
    shipping_total   BIGINT NOT NULL DEFAULT 0,
    tax_total        BIGINT NOT NULL DEFAULT 0,
    total            BIGINT NOT NULL CHECK (total >= 0),
    refunded_total   BIGINT NOT NULL DEFAULT 0 CHECK (refunded_total >= 0),
    shipping_address TEXT NOT NULL,
    ship_name        TEXT NOT NULL DEFAULT '',
    shipping_rate    TEXT NOT NULL,
    payment_id       TEXT NOT NULL DEFAULT '',
    reservation_id   TEXT NOT NULL,
    lines            TEXT NOT NULL,
    history          TEXT NOT NULL,
    idempotency_key  TEXT NOT NULL,
    request_hash     TEXT NOT NULL,
    expires_at       BIGINT NOT NULL,
    version          BIGINT NOT NULL DEFAULT 1,
    created_at       BIGINT NOT NULL,
    updated_at       BIGINT NOT NULL,
    UNIQUE (customer_id, idempotency_key)
);

CREATE INDEX orders_customer_newest ON orders (customer_id, created_at, id);
CREATE INDEX orders_status_newest ON orders (status, created_at, id);
CREATE INDEX orders_newest ON orders (created_at, id);
CREATE INDEX orders_payment ON orders (payment_id);

-- RefundOrder's idempotency: one row per (order, key).
CREATE TABLE order_refunds (
    order_id        TEXT NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    idempotency_key TEXT NOT NULL,
    request_hash    TEXT NOT NULL,
    amount          BIGINT NOT NULL,
    created_at      BIGINT NOT NULL,
    PRIMARY KEY (order_id, idempotency_key)
);
