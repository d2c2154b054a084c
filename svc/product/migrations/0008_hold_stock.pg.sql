-- hold_stock is a checkout's stock hold in one call on PostgreSQL: one round
-- trip and one commit where the same transaction from Go takes six or more,
-- and its statements keep their plans for the connection's life. It is the
-- fast path of store.reserve only, for the common case: a new idempotency
-- key, and every SKU keeping at least one unit after the hold (so nothing
-- goes out of stock and nothing needs re-indexing). It returns false when
-- the key is taken, and raises SQLSTATE EMH01 (undoing all of it) when a SKU
-- is missing or would run out; the caller then takes the transactional path
-- in reservations_store.go, which answers every such case. Keep the two
-- writing the same rows. Items come sorted by SKU, so two holds lock their
-- variants in one order.
CREATE FUNCTION hold_stock(
    p_id TEXT, p_status INTEGER, p_key TEXT, p_hash TEXT, p_expires_at BIGINT, p_at BIGINT, p_actor TEXT,
    p_skus TEXT[], p_quantities BIGINT[], p_search_ids TEXT[], p_movement_ids TEXT[]
) RETURNS BOOLEAN LANGUAGE plpgsql AS $$
DECLARE
    left_over BIGINT;
BEGIN
    INSERT INTO stock_reservations (id, status, idempotency_key, request_hash, expires_at, created_at, updated_at)
    VALUES (p_id, p_status, p_key, p_hash, p_expires_at, p_at, p_at)
    ON CONFLICT (idempotency_key) DO NOTHING;
    IF NOT FOUND THEN
        RETURN FALSE;
    END IF;
    FOR i IN 1 .. cardinality(p_skus) LOOP
        UPDATE variants SET stock = stock - p_quantities[i]
        WHERE sku = p_skus[i] AND stock > p_quantities[i]
        RETURNING stock INTO left_over;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'hold_stock: % is missing or would run out', p_skus[i] USING ERRCODE = 'EMH01';
        END IF;
        INSERT INTO stock_movements (id, sku, delta, reason, on_hand_after, created_at, actor)
        VALUES (p_movement_ids[i], p_skus[i], -p_quantities[i], 'reserve ' || p_id, left_over, p_at, p_actor);
    END LOOP;
    INSERT INTO stock_reservation_items (reservation_id, sku, quantity, search_id)
    SELECT p_id, s.sku, s.quantity, s.search_id
    FROM unnest(p_skus, p_quantities, p_search_ids) AS s (sku, quantity, search_id);
    RETURN TRUE;
END
$$;
