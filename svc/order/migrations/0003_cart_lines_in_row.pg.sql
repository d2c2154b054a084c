-- A cart's lines move into its row as JSON (carts.lines, oldest first, the
-- fields of cartLine in model.go), as an order's lines are kept: a cart is
-- then read, and changed, in one statement instead of two to four. version
-- counts a cart's changes, so that a change can be written without holding
-- the cart locked while the catalog is asked: a write based on an older
-- version is refused and made again.
ALTER TABLE carts ADD COLUMN lines TEXT NOT NULL DEFAULT '[]';
ALTER TABLE carts ADD COLUMN version BIGINT NOT NULL DEFAULT 0;
UPDATE carts SET lines = l.lines
FROM (
    SELECT cart_id, json_agg(json_build_object(
        'sku', sku, 'quantity', quantity, 'added_at', added_at, 'search_id', search_id
    ) ORDER BY added_at, sku)::text AS lines
    FROM cart_lines GROUP BY cart_id
) AS l
WHERE l.cart_id = carts.id;
DROP TABLE cart_lines;
