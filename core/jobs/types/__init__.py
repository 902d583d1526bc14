"""Job types: each registers a pydantic config model; built-ins are shell, python, http, git."""

from core.jobs.types.registry import JobType, job_type_names, lookup_job_type, registered_job_types

__all__ = ["JobType", "job_type_names", "lookup_job_type", "registered_job_types"]
