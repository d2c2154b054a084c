-- Templates staff edited: every edit is a new version of (kind, locale);
-- the highest version is the one in use. Built-in defaults are not stored.
-- Times are Unix microseconds.
CREATE TABLE templates (
    kind       INTEGER NOT NULL,
    locale     TEXT NOT NULL,
    version    BIGINT NOT NULL CHECK (version > 0),
    subject    TEXT NOT NULL,
    html       TEXT NOT NULL,
    text       TEXT NOT NULL,
    sms        TEXT NOT NULL,
    author     TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (kind, locale, version)
);

-- One delivery per event and channel: the unique key is what makes a
-- repeated Notify send nothing more. The rendered message is kept, so the
-- log shows what went out and a retry sends the same thing.
CREATE TABLE deliveries (
    id               TEXT PRIMARY KEY,
    event_id         TEXT NOT NULL,
    kind             INTEGER NOT NULL,
    channel          INTEGER NOT NULL,
    user_id          TEXT NOT NULL,
    recipient        TEXT NOT NULL,
    locale           TEXT NOT NULL,
    template_version BIGINT NOT NULL,
    status           INTEGER NOT NULL,
    attempts         INTEGER NOT NULL DEFAULT 0,
    provider_id      TEXT NOT NULL DEFAULT '',
    last_error       TEXT NOT NULL DEFAULT '',
    subject          TEXT NOT NULL,
    html             TEXT NOT NULL,
    text             TEXT NOT NULL,
    created_at       BIGINT NOT NULL,
    updated_at       BIGINT NOT NULL,
    sent_at          BIGINT NOT NULL DEFAULT 0,
    UNIQUE (event_id, channel)
);

CREATE INDEX deliveries_created ON deliveries (created_at DESC, id DESC);
CREATE INDEX deliveries_status ON deliveries (status, created_at DESC);
CREATE INDEX deliveries_user ON deliveries (user_id, created_at DESC);

-- Every attempt at a provider, and every staff retry: the delivery log.
CREATE TABLE delivery_attempts (
    id          TEXT PRIMARY KEY,
    delivery_id TEXT NOT NULL REFERENCES deliveries (id),
    attempt     INTEGER NOT NULL,
    at          BIGINT NOT NULL,
    outcome     TEXT NOT NULL,
    provider_id TEXT NOT NULL DEFAULT '',
    error       TEXT NOT NULL DEFAULT ''
);

CREATE INDEX delivery_attempts_delivery ON delivery_attempts (delivery_id, id);

-- Shoppers' choices; a shopper without a row has the defaults.
CREATE TABLE preferences (
    user_id              TEXT PRIMARY KEY,
    email_marketing      BOOLEAN NOT NULL,
    sms_marketing        BOOLEAN NOT NULL,
    sms_shipping_updates BOOLEAN NOT NULL,
    updated_at           BIGINT NOT NULL
);
