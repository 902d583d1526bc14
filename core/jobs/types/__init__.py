"""Job types: a config model and a way to run for each; built-ins are shell, python, http, git."""

from core.jobs.types.context import ExecPlan, JobContext, JobFailed
from core.jobs.types.registry import JobType, job_type_names, lookup_job_type, registered_job_types

__all__ = [
    "ExecPlan",
    "JobContext",
    "JobFailed",
    "JobType",
    "job_type_names",
    "lookup_job_type",
    "registered_job_types",
]
