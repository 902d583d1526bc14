"""Config of the `http` job type: one request with an expected status."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, HttpUrl, field_validator


class HttpConfig(BaseModel):
    """Send a request; the run fails when the status is not the expected one."""

    model_config = ConfigDict(extra="forbid")

    url: HttpUrl
    method: Literal["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"] = "GET"
    headers: dict[str, str] = Field(default_factory=dict)
    body: str | None = None
    expected_status: list[int] = Field(default_factory=lambda: [200])
    timeout_seconds: float = Field(default=30.0, gt=0, le=3600)
    verify_tls: bool = True

    @field_validator("method", mode="before")
    @classmethod
    def _upper(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    @field_validator("expected_status", mode="before")
    @classmethod
    def _one_or_many(cls, value: object) -> object:
        if isinstance(value, int | str):
            return [int(part) for part in str(value).split(",")]
        return value

    @field_validator("expected_status")
    @classmethod
    def _valid_codes(cls, value: list[int]) -> list[int]:
        for code in value:
            if not 100 <= code <= 599:
                raise ValueError(f"{code} is not an HTTP status code")
        return value
