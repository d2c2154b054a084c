-- The catalog: categories, products, their variants, and the stock ledger.
-- Portable between SQLite and PostgreSQL; times are Unix microseconds (UTC)
-- so keyset pagination compares them exactly on both.
CREATE TABLE categories (
    slug        TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    position    INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE products (
    id          TEXT PRIMARY KEY,
    slug        TEXT NOT NULL UNIQUE,
    title       TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    brand       TEXT NOT NULL DEFAULT '',
    category    TEXT NOT NULL REFERENCES categories (slug),
    status      SMALLINT NOT NULL,
    price       BIGINT NOT NULL CHECK (price >= 0),
    currency    TEXT NOT NULL,
    images      TEXT NOT NULL DEFAULT '[]',
    attributes  TEXT NOT NULL DEFAULT '{}',
    version     BIGINT NOT NULL DEFAULT 1,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);

CREATE INDEX products_newest ON products (status, created_at, id);
CREATE INDEX products_category_newest ON products (category, status, created_at, id);
CREATE INDEX products_price ON products (status, price, id);
CREATE INDEX products_title ON products (status, title, id);

CREATE TABLE variants (
    sku        TEXT PRIMARY KEY,
    product_id TEXT NOT NULL REFERENCES products (id) ON DELETE CASCADE,
    position   INTEGER NOT NULL,
    title      TEXT NOT NULL DEFAULT '',
    options    TEXT NOT NULL DEFAULT '{}',
    price      BIGINT NOT NULL CHECK (price >= 0),
    currency   TEXT NOT NULL,
    stock      BIGINT NOT NULL DEFAULT 0 CHECK (stock >= 0)
);

CREATE INDEX variants_product ON variants (product_id, position);

-- Every stock change, with its reason; idempotency_key makes a retried
-- AdjustStock a no-op that returns the first result.
CREATE TABLE stock_movements (
    id              TEXT PRIMARY KEY,
    sku             TEXT NOT NULL,
    delta           BIGINT NOT NULL,
    reason          TEXT NOT NULL,
    on_hand_after   BIGINT NOT NULL,
    idempotency_key TEXT UNIQUE,
    request_hash    TEXT NOT NULL DEFAULT '',
    created_at      BIGINT NOT NULL
);

CREATE INDEX stock_movements_sku ON stock_movements (sku, created_at);
