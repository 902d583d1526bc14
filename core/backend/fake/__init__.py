"""The fake backend: seeded in-memory data behind the Backend protocol, for UI tests."""

from core.backend.fake.backend import DEFAULT_START, FakeBackend

__all__ = ["DEFAULT_START", "FakeBackend"]
