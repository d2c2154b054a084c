-- Accounts, their addresses, single-use email tokens and linked external
-- (OpenID Connect) identities. Portable between SQLite and PostgreSQL; times
-- are Unix microseconds (UTC) so keyset pagination compares them exactly.
CREATE TABLE users (
    id                  TEXT PRIMARY KEY,
    email               TEXT NOT NULL UNIQUE, -- trimmed and lower-cased
    email_verified      BOOLEAN NOT NULL DEFAULT FALSE,
    password_hash       TEXT NOT NULL DEFAULT '', -- PHC argon2id; '' = no password
    display_name        TEXT NOT NULL DEFAULT '',
    phone               TEXT NOT NULL DEFAULT '',
    locale              TEXT NOT NULL DEFAULT '',
    marketing_opt_in    BOOLEAN NOT NULL DEFAULT FALSE,
    roles               TEXT NOT NULL DEFAULT '["customer"]', -- JSON array of role names
    status              SMALLINT NOT NULL,
    sessions_not_before BIGINT NOT NULL DEFAULT 0,
    created_at          BIGINT NOT NULL,
    updated_at          BIGINT NOT NULL
);

CREATE INDEX users_newest ON users (created_at, id);

CREATE TABLE addresses (
    id               TEXT PRIMARY KEY,
    user_id          TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name             TEXT NOT NULL,
    company          TEXT NOT NULL DEFAULT '',
    line1            TEXT NOT NULL,
    line2            TEXT NOT NULL DEFAULT '',
    city             TEXT NOT NULL,
    region           TEXT NOT NULL DEFAULT '',
    postal_code      TEXT NOT NULL DEFAULT '',
    country          TEXT NOT NULL,
    phone            TEXT NOT NULL DEFAULT '',
    default_shipping BOOLEAN NOT NULL DEFAULT FALSE,
    default_billing  BOOLEAN NOT NULL DEFAULT FALSE,
    created_at       BIGINT NOT NULL,
    updated_at       BIGINT NOT NULL
);

CREATE INDEX addresses_user ON addresses (user_id, created_at, id);
-- At most one default of each kind per user, whatever runs concurrently.
CREATE UNIQUE INDEX addresses_default_shipping ON addresses (user_id) WHERE default_shipping;
CREATE UNIQUE INDEX addresses_default_billing ON addresses (user_id) WHERE default_billing;

-- Email verification and password reset tokens. Only the SHA-256 of a token
-- is stored; used_at makes each single-use.
CREATE TABLE user_tokens (
    token_hash TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    purpose    TEXT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at    BIGINT,
    created_at BIGINT NOT NULL
);

CREATE INDEX user_tokens_user ON user_tokens (user_id, purpose);

-- Accounts signed in with an OpenID Connect provider: issuer + subject.
CREATE TABLE external_identities (
    issuer     TEXT NOT NULL,
    subject    TEXT NOT NULL,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    email      TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL,
    PRIMARY KEY (issuer, subject)
);

CREATE INDEX external_identities_user ON external_identities (user_id);
