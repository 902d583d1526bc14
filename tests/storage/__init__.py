"""Tests of core.storage: migrations, tables, SQLite behaviour and query plans, on both backends."""
