"""Config of the `python` job type: a `module:function` called with the parameters."""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict, Field, field_validator

_TARGET = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_][\w.]*$", re.ASCII)


class PythonConfig(BaseModel):
    """Call ``callable`` (``package.module:function``) with the run's parameters as kwargs."""

    model_config = ConfigDict(extra="forbid")

    callable: str = Field(description="module:function, e.g. mypkg.jobs:nightly")
    kwargs: dict[str, object] = Field(default_factory=dict, description="fixed keyword arguments")
    python_path: list[str] = Field(default_factory=list, description="extra sys.path entries")

    @field_validator("callable")
    @classmethod
    def _module_colon_function(cls, value: str) -> str:
        if not _TARGET.match(value):
            raise ValueError(f"{value!r} is not of the form module:function")
        return value
