"""jobdeck's scheduler: the single-owner lease and the policy layer that records occurrences.

``Lease`` makes one process the owner of a database; ``Scheduler`` turns due occurrences into
ledger rows and pending runs under that lease (SCHEDULING.md rules 1-10, 13, 14). See
docs/owner-design.md for how the owner wires them to the executor.
"""

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from core.jobs.scheduler.batch import LeaseLost
    from core.jobs.scheduler.engine import SchedulerConfig
    from core.jobs.scheduler.lease import Lease, LeaseInfo
    from core.jobs.scheduler.loop import Scheduler
    from core.jobs.scheduler.policy import Decision, Policy, reason_kind
    from core.jobs.scheduler.reports import (
        BackendResumePlan,
        PlannedOccurrence,
        ResumePlan,
        RetentionReport,
        TickReport,
    )
    from core.jobs.system_state import MAINTENANCE_KEY

#: name → the module defining it. Importing the package imports none of them: a process that
#: only reads the lease (a console deciding whether to attach) does not load the scheduler.
_HOMES = {
    "LeaseLost": "batch",
    "SchedulerConfig": "engine",
    "Lease": "lease",
    "LeaseInfo": "lease",
    "Scheduler": "loop",
    "Decision": "policy",
    "Policy": "policy",
    "reason_kind": "policy",
    "BackendResumePlan": "reports",
    "PlannedOccurrence": "reports",
    "ResumePlan": "reports",
    "RetentionReport": "reports",
    "TickReport": "reports",
}


def __getattr__(name: str) -> Any:
    if name == "MAINTENANCE_KEY":
        return import_module("core.jobs.system_state").MAINTENANCE_KEY
    if name in _HOMES:
        return getattr(import_module(f"{__name__}.{_HOMES[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "MAINTENANCE_KEY",
    "BackendResumePlan",
    "Decision",
    "Lease",
    "LeaseInfo",
    "LeaseLost",
    "PlannedOccurrence",
    "Policy",
    "ResumePlan",
    "RetentionReport",
    "Scheduler",
    "SchedulerConfig",
    "TickReport",
    "reason_kind",
]
