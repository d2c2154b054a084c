-- Search analytics (svc/product/analytics/sqlstore): one row per search a
-- shopper ran, and what shoppers then did with its results (clicks,
-- add-to-cart, purchases), joined by search_id. Times are Unix microseconds;
-- rows older than --search-analytics-retention are deleted.
CREATE TABLE search_queries (
    search_id      TEXT PRIMARY KEY,
    at             BIGINT NOT NULL,
    query          TEXT NOT NULL,
    filters        TEXT NOT NULL,
    hits           BIGINT NOT NULL,
    latency_micros BIGINT NOT NULL,
    session        TEXT NOT NULL
);

CREATE INDEX search_queries_at ON search_queries (at);

CREATE TABLE search_actions (
    search_id  TEXT NOT NULL,
    kind       SMALLINT NOT NULL,
    product_id TEXT NOT NULL,
    at         BIGINT NOT NULL,
    PRIMARY KEY (search_id, kind, product_id)
);

CREATE INDEX search_actions_at ON search_actions (at);

-- search_settings holds the salt of anonymous session keys, made once by
-- the first replica that needs it and shared by all.
CREATE TABLE search_settings (
    name  TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

-- The search a reserved SKU was found through: committing the reservation
-- (the order was paid) records a purchase of that search.
ALTER TABLE stock_reservation_items ADD COLUMN search_id TEXT NOT NULL DEFAULT '';
