-- A cart's lines move into its row as JSON (carts.lines, oldest first, the
-- fields of cartLine in model.go), as an order's lines are kept: a cart is
-- then read, and changed, in one statement instead of two to four.
ALTER TABLE carts ADD COLUMN lines TEXT NOT NULL DEFAULT '[]';
UPDATE carts SET lines = (
    SELECT json_group_array(json_object(
        'sku', sku, 'quantity', quantity, 'added_at', added_at, 'search_id', search_id))
    FROM (SELECT * FROM cart_lines WHERE cart_id = carts.id ORDER BY added_at, sku)
)
WHERE id IN (SELECT cart_id FROM cart_lines);
DROP TABLE cart_lines;
