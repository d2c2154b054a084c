-- stock_movements_sku (sku, created_at) is a prefix of
-- stock_movements_sku_newest (sku, created_at, id), which serves every read
-- it served; each stock movement (one per SKU of every checkout's hold)
-- wrote to both.
DROP INDEX stock_movements_sku;
