"""Config of the `shell` job type: an argv list, or a shell script only with shell=true."""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from core.jobs.types.context import ExecPlan


class ShellConfig(BaseModel):
    """Run a command. A string command is split with shlex and never given to a shell."""

    model_config = ConfigDict(extra="forbid")

    command: list[str] = Field(description="argv list; a string is split with shell-like rules")
    shell: bool = Field(default=False, description="run command[0] as a /bin/sh script")
    cwd: str | None = Field(default=None, description="working directory")
    env: dict[str, str] = Field(default_factory=dict, description="extra environment variables")

    @model_validator(mode="before")
    @classmethod
    def _script_kept_whole(cls, data: Any) -> Any:
        # With shell=true a string command is the script itself, kept as typed (`;`, `>&2`,
        # `$(...)` included): it must never go through shlex.
        if isinstance(data, dict) and data.get("shell") is True:
            command = data.get("command")
            if isinstance(command, str):
                return {**data, "command": [command]}
        return data

    @field_validator("command", mode="before")
    @classmethod
    def _split_string(cls, value: Any) -> Any:
        if isinstance(value, str):
            try:
                return shlex.split(value)
            except ValueError as exc:
                raise ValueError(f"cannot split command: {exc}") from exc
        return value

    @field_validator("command")
    @classmethod
    def _not_empty(cls, value: list[str]) -> list[str]:
        if not value or not value[0].strip():
            raise ValueError("command is empty")
        if any("\x00" in part for part in value):
            raise ValueError("command contains a NUL byte")
        return value

    @field_validator("env")
    @classmethod
    def _valid_env(cls, value: dict[str, str]) -> dict[str, str]:
        for key in value:
            if not key or "=" in key or "\x00" in key:
                raise ValueError(f"invalid environment variable name {key!r}")
        return value

    @model_validator(mode="after")
    def _script_is_one_string(self) -> ShellConfig:
        if self.shell and len(self.command) != 1:
            # With shell=true and an argv list, the script runs that argv (each item quoted).
            self.command = [shlex.join(self.command)]
        return self


def shell_plan(config: BaseModel) -> ExecPlan:
    """The argv of a shell job: the command itself, or ``/bin/sh -c script`` with shell=true."""
    assert isinstance(config, ShellConfig)
    argv = ["/bin/sh", "-c", config.command[0]] if config.shell else list(config.command)
    cwd = str(Path(config.cwd).expanduser()) if config.cwd else None
    return ExecPlan(argv=argv, cwd=cwd, env=dict(config.env))
