-- Shipping weight per variant, in grams; 0 when unknown.
ALTER TABLE variants ADD COLUMN weight_grams BIGINT NOT NULL DEFAULT 0 CHECK (weight_grams >= 0);
