"""Settings: TOML file, JOBDECK_* variables, defaults, and clear errors for bad files."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.errors import ValidationFailed
from core.settings.config import load_settings


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("JOBDECK_HOME", "JOBDECK_DATABASE_URL", "JOBDECK_TIMEZONE", "JOBDECK_READ_ONLY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("JOBDECK_CONFIG", str(tmp_path / "absent.toml"))


def write(tmp_path: Path, text: str) -> Path:
    """A config file with ``text``."""
    path = tmp_path / "config.toml"
    path.write_text(text)
    return path


def test_defaults_without_a_file(tmp_path: Path) -> None:
    settings = load_settings()
    assert settings.resolved_database_url().endswith("/jobdeck/jobdeck.db")
    assert settings.executor.slots == 4
    assert settings.read_only is False


def test_file_values_and_env_overrides(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(
        tmp_path,
        'timezone = "Europe/Riga"\nhome = "/srv/jd"\n[executor]\nslots = 8\n'
        '[keymap]\n"runs.cancel" = "x"\n[backends.prod]\nurl = "https://jd.example:8765"\n',
    )
    settings = load_settings(path)
    assert settings.timezone == "Europe/Riga"
    assert settings.resolved_database_url() == "sqlite:////srv/jd/jobdeck.db"
    assert settings.executor.slots == 8
    assert settings.keymap == {"runs.cancel": "x"}
    assert settings.backends["prod"].kind == "jobdeck"
    monkeypatch.setenv("JOBDECK_EXECUTOR__SLOTS", "2")
    monkeypatch.setenv("JOBDECK_DATABASE_URL", "postgresql+psycopg://u@h/db")
    settings = load_settings(path)
    assert settings.executor.slots == 2
    assert settings.resolved_database_url() == "postgresql+psycopg://u@h/db"


def test_config_path_from_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path, "read_only = true\n")
    monkeypatch.setenv("JOBDECK_CONFIG", str(path))
    assert load_settings().read_only is True


@pytest.mark.parametrize(
    ("text", "key", "words"),
    [
        ('timezone = "Mars/Olympus"', "timezone", "not an IANA time zone"),
        ("[executor]\nslots = 0", "executor.slots", "greater than or equal to 1"),
        ("[executor]\nslotz = 3", "executor.slotz", "Extra inputs"),
        ('[scheduler]\nheartbeat_seconds = "soon"', "scheduler.heartbeat_seconds", "valid number"),
        ("[backends.prod]\nkind = 'jobdeck'", "backends.prod.url", "Field required"),
        ("unknown_key = 1", "unknown_key", "Extra inputs"),
        ("timezone = ", "", "not valid TOML"),
    ],
)
def test_bad_file_names_file_key_and_problem(
    tmp_path: Path, text: str, key: str, words: str
) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ValidationFailed) as caught:
        load_settings(path)
    message = str(caught.value)
    assert str(path) in message
    assert key in message
    assert words in message


def test_explicit_missing_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ValidationFailed, match="does not exist"):
        load_settings(tmp_path / "nope.toml")


def test_bad_environment_variable_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JOBDECK_EXECUTOR__SLOTS", "many")
    with pytest.raises(ValidationFailed) as caught:
        load_settings()
    assert "JOBDECK_EXECUTOR__SLOTS" in str(caught.value)
