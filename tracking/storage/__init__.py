"""Storage behind a small interface (`base.Storage`); SQLite is the embedded default."""
