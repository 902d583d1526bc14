"""jobdeck's scheduler: the single-owner lease and the policy layer that records occurrences.

``Lease`` makes one process the owner of a database; ``Scheduler`` turns due occurrences into
ledger rows and pending runs under that lease (SCHEDULING.md rules 1-10, 13, 14). See
docs/owner-design.md for how the owner wires them to the executor.
"""

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
