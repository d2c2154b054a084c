-- The search a cart line's SKU was added from (CartService.AddItem's
-- search_id), passed on to the stock hold at checkout so that the paid
-- order counts as a purchase of that search in the product service's
-- search analytics. Empty when the item was not found through search.
ALTER TABLE cart_lines ADD COLUMN search_id TEXT NOT NULL DEFAULT '';
