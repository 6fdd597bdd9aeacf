-- Case-folded display name for search: SQLite's LOWER() folds ASCII only, so the store folds in
-- Rust and searches this column. Existing rows are filled in by the store right after migrating.
ALTER TABLE users ADD COLUMN name_norm TEXT NOT NULL DEFAULT '';
