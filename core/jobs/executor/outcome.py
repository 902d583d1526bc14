"""How an attempt ended: its status, exit code or signal, result, error and final log line."""

from __future__ import annotations

import json
import signal
from dataclasses import dataclass
from typing import Any

_STOP_STATUS = {"timeout": "timed_out", "deadline": "timed_out"}


@dataclass(frozen=True)
class AttemptResult:
    """How an attempt ended, before the retry policy decides what becomes of the run."""

    status: str
    exit_code: int | None = None
    signal: int | None = None
    result: Any = None
    error: str | None = None
    note: str | None = None
    cancel_reason: str | None = None
    permanent: bool = False


def signal_name(signum: int) -> str:
    """``SIGKILL`` for 9."""
    try:
        return signal.Signals(signum).name
    except ValueError:
        return f"signal {signum}"


@dataclass
class Stop:
    """Why an attempt is being ended early."""

    kind: str  # timeout | deadline | cancel | shutdown
    reason: str


def mask(text: str | None, secrets: tuple[str, ...]) -> str | None:
    """``text`` with the secret values hidden."""
    if text:
        for secret in secrets:
            text = text.replace(secret, "********")
    return text


def _masked_result(result: Any, secrets: tuple[str, ...]) -> Any:
    if result is None or not secrets:
        return result
    text = json.dumps(result)
    for secret in secrets:
        # Compare in JSON's own escaping, so quotes and backslashes in a secret still match.
        text = text.replace(json.dumps(secret)[1:-1], "********")
    return json.loads(text)


def stopped(stop: Stop, returncode: int | None, sent: int | None, grace: float) -> AttemptResult:
    """An attempt ended early on request: timed out or cancelled, with the signal used."""
    code = returncode if returncode is not None and returncode >= 0 else None
    killed_by = -returncode if returncode is not None and returncode < 0 else None
    status = _STOP_STATUS.get(stop.kind, "cancelled")
    how = ""
    if sent == signal.SIGKILL:
        how = f": sent SIGTERM, then SIGKILL after the {grace:g} s grace"
    elif sent == signal.SIGTERM:
        how = ": sent SIGTERM"
    if status == "timed_out":
        error = f"timed out ({stop.reason})"
    elif stop.kind == "shutdown":
        error = f"cancelled by owner shutdown: {stop.reason}"
    else:
        error = f"cancelled: {stop.reason}"
    return AttemptResult(
        status,
        code,
        killed_by or sent,
        error=error,
        note=f"[jobdeck] {error}{how}",
        cancel_reason=stop.reason if status == "cancelled" else None,
    )


def ended(
    returncode: int, report_data: bytes, reports: bool, secrets: tuple[str, ...]
) -> AttemptResult:
    """An attempt whose process ended by itself; ``reports``: it wrote a result report."""
    code, killed_by = (returncode, None) if returncode >= 0 else (None, -returncode)
    if killed_by is not None:
        error = f"killed by signal {killed_by} ({signal_name(killed_by)})"
        return AttemptResult("failed", None, killed_by, error=error, note=f"[jobdeck] {error}")
    if not reports:
        if code == 0:
            return AttemptResult("completed", 0)
        return AttemptResult("failed", code, error=f"exit status {code}")
    try:
        report = json.loads(report_data) if report_data else None
    except ValueError:
        report = None
    if not isinstance(report, dict):
        error = f"the job process exited with status {code} without reporting a result"
        return AttemptResult("failed", code, error=error, note=f"[jobdeck] {error}")
    result = _masked_result(report.get("result"), secrets)
    if report.get("ok") and code == 0:
        return AttemptResult("completed", 0, result=result)
    error = mask(str(report.get("error") or f"exit status {code}"), secrets) or ""
    return AttemptResult(
        "failed",
        code,
        result=result,
        error=error,
        note=f"[jobdeck] failed: {error}",
        permanent=bool(report.get("setup")),
    )
