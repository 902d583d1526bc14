"""Alembic migrations for jobdeck's schema, applied automatically at start."""
