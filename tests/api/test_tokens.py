"""Tokens: only hashes stored, verify/revoke, last_used_at written sparingly; the token CLI."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlmodel import select

from console.cli import main
from core.clock import ManualClock
from core.errors import Conflict, NotFound, ValidationFailed
from core.jobs.audit import Actor
from core.jobs.tokens import TokenService, token_hash
from core.storage.database import Database
from core.storage.tables import AuditRecord

START = datetime(2030, 1, 7, 9, 0, tzinfo=UTC)


@pytest.fixture
def service(fresh_sqlite_database: Database) -> TokenService:
    return TokenService(fresh_sqlite_database, ManualClock(START), Actor("alice", "cli"))


def test_only_the_hash_is_stored(service: TokenService) -> None:
    created = service.create("ci", "viewer")
    assert created.token.startswith("jd_") and len(created.token) > 40
    assert created.info.prefix == created.token[:10]
    url = service.db.engine.url.database
    assert url is not None
    service.db.dispose()
    raw = Path(url).read_bytes() + b"".join(
        p.read_bytes() for p in Path(url).parent.glob("*.db-wal")
    )
    assert created.token.encode() not in raw
    assert token_hash(created.token).encode() in raw


def test_verify_and_revoke(service: TokenService) -> None:
    token = service.create("ci", "operator").token
    found = service.verify(token)
    assert found is not None and (found.name, found.role) == ("ci", "operator")
    assert service.verify(token + "x") is None
    assert service.verify("not-even-a-jobdeck-token") is None
    revoked = service.revoke("ci")
    assert revoked.revoked_at == START
    assert service.verify(token) is None
    with pytest.raises(Conflict):
        service.revoke("ci")
    with pytest.raises(NotFound):
        service.revoke("nobody")


def test_last_used_is_written_at_most_once_a_minute(service: TokenService) -> None:
    clock = service.clock
    assert isinstance(clock, ManualClock)
    token = service.create("ci", "viewer").token
    assert service.verify(token) is not None
    clock.advance(30)
    service.verify(token)
    assert service.list_tokens()[0].last_used_at == START
    clock.advance(31)
    service.verify(token)
    assert service.list_tokens()[0].last_used_at == START + timedelta(seconds=61)


def test_names_and_roles_are_checked(service: TokenService) -> None:
    with pytest.raises(ValidationFailed) as bad_role:
        service.create("ci", "root")
    assert bad_role.value.field == "role"
    for name in ("", "has space", "-dash-first", "x" * 65):
        with pytest.raises(ValidationFailed) as bad_name:
            service.create(name, "viewer")
        assert bad_name.value.field == "name"
    service.create("ci", "viewer")
    with pytest.raises(Conflict):
        service.create("ci", "admin")


def test_token_writes_are_audited(service: TokenService) -> None:
    service.create("ci", "viewer")
    service.revoke("ci")
    with service.db.read() as session:
        rows = session.exec(select(AuditRecord).order_by(AuditRecord.id)).all()  # type: ignore[arg-type]
    assert [(r.action, r.actor, r.source, r.target_name) for r in rows] == [
        ("token.create", "alice", "cli", "ci"),
        ("token.revoke", "alice", "cli", "ci"),
    ]
    assert "token" not in json.dumps([r.after for r in rows])


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in list(os.environ):
        if name.startswith("JOBDECK_") and not name.startswith("JOBDECK_TEST_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("JOBDECK_HOME", str(tmp_path))
    monkeypatch.setenv("JOBDECK_CONFIG", str(tmp_path / "absent.toml"))
    monkeypatch.setenv("JOBDECK_TIMEZONE", "UTC")
    monkeypatch.setenv("JOBDECK_ACTOR", "bob")
    return tmp_path


def _jd(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_token_cli(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _jd(capsys, "token", "create", "ci-bot", "--role", "operator")
    assert code == 0
    token = out.strip()
    assert token.startswith("jd_") and "\n" not in token
    assert "shown only now" in err
    code, out, _ = _jd(capsys, "token", "list")
    assert code == 0
    assert "ci-bot" in out and "operator" in out and token[:10] in out and token not in out
    code, out, _ = _jd(capsys, "token", "list", "--json")
    listed = json.loads(out)
    assert [(t["name"], t["role"], t["created_by"], t["revoked_at"]) for t in listed] == [
        ("ci-bot", "operator", "bob", None)
    ]
    code, out, _ = _jd(capsys, "token", "revoke", "ci-bot")
    assert code == 0 and "revoked" in out
    code, out, _ = _jd(capsys, "token", "list", "--json")
    assert json.loads(out)[0]["revoked_at"] is not None


def test_token_cli_errors(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _jd(capsys, "token", "create", "x", "--role", "root")
    assert code == 2 and "--role" in err
    code, _, err = _jd(capsys, "token", "revoke", "ghost")
    assert code == 2 and "not found" in err
    code, _, err = _jd(capsys, "--read-only", "token", "create", "x", "--role", "viewer")
    assert code == 1 and "read-only" in err
    code, out, _ = _jd(capsys, "token", "create", "j", "--role", "admin", "--json")
    assert code == 0 and json.loads(out)["token"].startswith("jd_")
