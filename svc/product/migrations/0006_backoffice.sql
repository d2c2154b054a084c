-- The back office: archived categories, who made each stock change and
-- uploaded product images (idempotent uploads). Times are Unix
-- microseconds; 0 means never.
ALTER TABLE categories ADD COLUMN archived_at BIGINT NOT NULL DEFAULT 0;

-- A user id for staff, a service name for checkouts, "system" for expired
-- holds; empty for the changes made before this column.
ALTER TABLE stock_movements ADD COLUMN actor TEXT NOT NULL DEFAULT '';

-- Newest first per SKU, with the id breaking ties, for ListStockMovements.
CREATE INDEX stock_movements_sku_newest ON stock_movements (sku, created_at, id);

-- Low stock: by level, then SKU.
CREATE INDEX variants_stock ON variants (stock, sku);

CREATE TABLE image_uploads (
    idempotency_key TEXT PRIMARY KEY,
    request_hash    TEXT NOT NULL,
    product_id      TEXT NOT NULL,
    url             TEXT NOT NULL,
    created_at      BIGINT NOT NULL
);
