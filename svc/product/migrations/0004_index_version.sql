-- index_version orders the changes of a product's search document: every
-- change that alters the document (the product, or its stock crossing zero)
-- adds one in the same transaction as the outbox job that carries it to the
-- index, where it is the document's external version. Existing products
-- start at 1, so that every document written from the database carries a
-- version (an index never mixes versioned and unversioned writes of one
-- document).
ALTER TABLE products ADD COLUMN index_version BIGINT NOT NULL DEFAULT 0;
UPDATE products SET index_version = 1;
