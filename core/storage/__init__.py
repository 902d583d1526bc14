"""Storage: SQLModel tables, engine set-up and Alembic migrations for SQLite and PostgreSQL."""
