-- Orders the service has shipped parcels of, with what was ordered. The
-- row is locked while a shipment of the order is created or voided, so two
-- concurrent calls cannot ship an item more often than it was ordered.
-- Times are Unix microseconds.
CREATE TABLE shipment_orders (
    order_id     TEXT PRIMARY KEY,
    order_number TEXT NOT NULL,
    customer_id  TEXT NOT NULL,
    -- JSON object sku → quantity ordered.
    ordered      TEXT NOT NULL,
    created_at   BIGINT NOT NULL
);

-- One parcel of an order. A shipment is recorded PENDING (status 1) before
-- its label is bought, so a crash in between leaves a row that a retry of
-- the same CreateShipment finishes instead of buying a second label.
CREATE TABLE shipments (
    id                  TEXT PRIMARY KEY,
    order_id            TEXT NOT NULL REFERENCES shipment_orders (order_id),
    carrier             TEXT NOT NULL,
    service             TEXT NOT NULL,
    status              SMALLINT NOT NULL,
    tracking_number     TEXT NOT NULL,
    carrier_shipment_id TEXT NOT NULL,
    label_key           TEXT NOT NULL,
    label_cost          BIGINT NOT NULL,
    currency            TEXT NOT NULL,
    weight_grams        BIGINT NOT NULL CHECK (weight_grams > 0),
    length_mm           BIGINT NOT NULL,
    width_mm            BIGINT NOT NULL,
    height_mm           BIGINT NOT NULL,
    declared_value      BIGINT NOT NULL,
    -- The ship-to address (protojson), to buy the label on a resumed call.
    ship_to             TEXT NOT NULL,
    idempotency_key     TEXT NOT NULL,
    parcel_index        INTEGER NOT NULL,
    request_hash        TEXT NOT NULL,
    -- When the tracking poller last asked the carrier; it asks the
    -- longest-unasked first.
    polled_at           BIGINT NOT NULL DEFAULT 0,
    created_at          BIGINT NOT NULL,
    updated_at          BIGINT NOT NULL,
    UNIQUE (idempotency_key, parcel_index)
);

CREATE INDEX shipments_order ON shipments (order_id, created_at);
CREATE INDEX shipments_created ON shipments (created_at, id);
CREATE INDEX shipments_poll ON shipments (status, polled_at);
CREATE UNIQUE INDEX shipments_tracking ON shipments (carrier, tracking_number) WHERE tracking_number <> '';

CREATE TABLE shipment_items (
    shipment_id TEXT NOT NULL REFERENCES shipments (id) ON DELETE CASCADE,
    sku         TEXT NOT NULL,
    quantity    BIGINT NOT NULL CHECK (quantity > 0),
    PRIMARY KEY (shipment_id, sku)
);

-- Tracking scans; the key makes a repeated event (a poll seeing it again,
-- a redelivered webhook) change nothing.
CREATE TABLE tracking_events (
    shipment_id TEXT NOT NULL REFERENCES shipments (id) ON DELETE CASCADE,
    at          BIGINT NOT NULL,
    status      SMALLINT NOT NULL,
    description TEXT NOT NULL,
    location    TEXT NOT NULL,
    PRIMARY KEY (shipment_id, at, status)
);
