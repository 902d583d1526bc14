"""Contract tests: one suite run against every Backend implementation."""
