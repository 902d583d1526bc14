"""Config of the `git` job type: pull a repository, run a command, commit and push changes."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator

from core.jobs.types.shell import ShellConfig


class GitConfig(BaseModel):
    """Back up files to git: clone or pull, optionally run a command, commit and push."""

    model_config = ConfigDict(extra="forbid")

    repository: str = Field(description="clone URL or path of the remote repository")
    branch: str = "main"
    workdir: str | None = Field(default=None, description="checkout directory (default: cache)")
    command: list[str] | None = Field(default=None, description="argv run inside the checkout")
    commit_message: str = "jobdeck: automatic commit"
    author_name: str = "jobdeck"
    author_email: str = "jobdeck@localhost"
    push: bool = True

    @field_validator("repository", "branch")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be empty")
        if value.startswith("-"):
            raise ValueError("must not start with '-'")
        return value

    @field_validator("command", mode="before")
    @classmethod
    def _split(cls, value: object) -> object:
        if isinstance(value, str):
            return ShellConfig.model_validate({"command": value}).command
        return value
