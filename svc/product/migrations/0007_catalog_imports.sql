-- CSV imports of products and stock, idempotent by the file's SHA-256:
-- result is the ImportCatalogResponse (protojson) a repeat gets back.
CREATE TABLE catalog_imports (
    sha256     TEXT PRIMARY KEY,
    file       SMALLINT NOT NULL,
    actor      TEXT NOT NULL,
    result     TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
