-- Pending orders by payment deadline, for the expiry sweep (expiry.go);
-- status leads so that SQLite, which has no statistics here, prefers it to
-- orders_status_newest (and sorts nothing).
-- Partial: only orders waiting for their payment (status 1,
-- ORDER_STATUS_PENDING_PAYMENT), so the index stays as small as the orders
-- in their payment window, and an order leaves it when it is paid.
CREATE INDEX orders_expiry ON orders (status, expires_at, id) WHERE status = 1;
