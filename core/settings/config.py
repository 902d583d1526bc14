"""Settings from the TOML config file and JOBDECK_* environment variables (pydantic-settings)."""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any, Literal

import platformdirs
from pydantic import BaseModel, Field, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from core.errors import ValidationFailed
from core.settings.zones import is_iana_zone, system_zone

APP_NAME = "jobdeck"


def default_config_path() -> Path:
    """Where the config file lives: $JOBDECK_CONFIG, else the platform's config directory."""
    explicit = os.environ.get("JOBDECK_CONFIG")
    if explicit:
        return Path(explicit).expanduser()
    return Path(platformdirs.user_config_dir(APP_NAME)) / "config.toml"


def default_home() -> Path:
    """The data directory: the platform's user data directory for jobdeck."""
    return Path(platformdirs.user_data_dir(APP_NAME))


class BackendProfile(BaseModel):
    """A named remote backend the TUI and CLI can attach to (`--backend NAME`)."""

    model_config = {"extra": "forbid"}

    kind: Literal["jobdeck", "cockpit"] = "jobdeck"
    url: str
    token: str | None = None
    username: str | None = None
    verify_tls: bool = True


class SchedulerSettings(BaseModel):
    """Scheduler tuning; the defaults follow SCHEDULING.md."""

    model_config = {"extra": "forbid"}

    lease_ttl_seconds: float = Field(default=20.0, gt=0)
    heartbeat_seconds: float = Field(default=5.0, gt=0)
    max_sleep_seconds: float = Field(default=60.0, gt=0, le=60)


class ExecutorSettings(BaseModel):
    """Local executor pool settings."""

    model_config = {"extra": "forbid"}

    kind: Literal["local", "celery"] = "local"
    slots: int = Field(default=4, ge=1, le=1024)
    kill_grace_seconds: float = Field(default=10.0, ge=0)
    max_log_bytes: int = Field(default=10 * 1024 * 1024, ge=1024)


class Settings(BaseSettings):
    """Every jobdeck setting; each one can also come from a JOBDECK_* environment variable."""

    model_config = SettingsConfigDict(
        env_prefix="JOBDECK_",
        env_nested_delimiter="__",
        extra="forbid",
    )

    home: Path = Field(default_factory=default_home)
    database_url: str | None = None
    secret_key_file: Path | None = None
    timezone: str = Field(default_factory=system_zone)
    read_only: bool = False
    actor: str | None = None
    scheduler: SchedulerSettings = Field(default_factory=SchedulerSettings)
    executor: ExecutorSettings = Field(default_factory=ExecutorSettings)
    keymap: dict[str, str] = Field(default_factory=dict)
    backends: dict[str, BackendProfile] = Field(default_factory=dict)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        if not is_iana_zone(value):
            raise ValueError(f"{value!r} is not an IANA time zone (e.g. Europe/Riga, UTC)")
        return value

    @field_validator("home")
    @classmethod
    def _expand_home(cls, value: Path) -> Path:
        return value.expanduser()

    def resolved_database_url(self) -> str:
        """The database to use: JOBDECK_DATABASE_URL, else SQLite at $JOBDECK_HOME/jobdeck.db."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.home / 'jobdeck.db'}"

    def resolved_secret_key_file(self) -> Path:
        """The key that encrypts secrets at rest: outside the database, mode 0600."""
        return (self.secret_key_file or self.home / "secret.key").expanduser()

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        path = _CONFIG_PATH_OVERRIDE or default_config_path()
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        if path.is_file():
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=path))
        return tuple(sources)


_CONFIG_PATH_OVERRIDE: Path | None = None


def load_settings(config_path: Path | None = None, **overrides: Any) -> Settings:
    """Read settings; a bad file or variable fails naming the file, the key and the problem."""
    global _CONFIG_PATH_OVERRIDE
    path = config_path or default_config_path()
    if path.is_file():
        try:
            tomllib.loads(path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise ValidationFailed(str(path), f"not valid TOML: {exc}") from exc
        except OSError as exc:
            raise ValidationFailed(str(path), f"cannot be read: {exc.strerror}") from exc
    elif config_path is not None:
        raise ValidationFailed(str(path), "config file does not exist")
    _CONFIG_PATH_OVERRIDE = path
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        error = exc.errors()[0]
        parts = [str(part) for part in error["loc"]]
        key = ".".join(parts) or "(top level)"
        env_name = "JOBDECK_" + "__".join(parts).upper()
        if parts and (env_name in os.environ or f"JOBDECK_{parts[0].upper()}" in os.environ):
            where = f"environment variable {env_name}"
        elif path.is_file():
            where = str(path)
        else:
            where = "settings"
        raise ValidationFailed(f"{where}: {key}", error["msg"]) from exc
    finally:
        _CONFIG_PATH_OVERRIDE = None
