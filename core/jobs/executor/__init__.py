"""The local executor: runs pending runs in child processes (slots, timeouts, retries, logs)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from core.jobs.executor.config import (
    ActiveRunInfo,
    ExecutorConfig,
    ReconcileReport,
    WorkerSnapshot,
)

if TYPE_CHECKING:
    from core.jobs.executor.executor import LocalExecutor

__all__ = [
    "ActiveRunInfo",
    "ExecutorConfig",
    "LocalExecutor",
    "ReconcileReport",
    "WorkerSnapshot",
]


def __getattr__(name: str) -> Any:
    # Imported on first use: the fork server imports this package too, and must start
    # warm without SQLAlchemy and the storage layer it never uses.
    if name == "LocalExecutor":
        from core.jobs.executor.executor import LocalExecutor

        return LocalExecutor
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
