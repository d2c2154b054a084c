-- A cart's lines move into its row as JSON (carts.lines, oldest first, the
-- fields of cartLine in model.go), as an order's lines are kept: a cart is
-- then read, and changed, in one statement instead of two to four. version
-- counts a cart's changes, so that a change can be written without holding
-- the cart locked while the catalog is asked: a write based on an older
-- version is refused and made again.
ALTER TABLE carts ADD COLUMN lines TEXT NOT NULL DEFAULT '[]';
ALTER TABLE carts ADD COLUMN version BIGINT NOT NULL DEFAULT 0;
UPDATE carts SET lines = (
    SELECT json_group_array(json_object(
        'sku', sku, 'quantity', quantity, 'added_at', added_at, 'search_id', search_id))
    FROM (SELECT * FROM cart_lines WHERE cart_id = carts.id ORDER BY added_at, sku)
)
WHERE id IN (SELECT cart_id FROM cart_lines);
DROP TABLE cart_lines;
