"""Inside a child forked from the fork server: become the job, run its type's runner, report."""

from __future__ import annotations

import importlib
import json
import os
import signal
import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn, TextIO

from pydantic import ValidationError

from core.jobs.executor.environment import config_problem
from core.jobs.executor.procs import comm_marker
from core.jobs.types import JobContext, JobFailed, lookup_job_type

#: Exit status of a child that failed before or outside the job (a jobdeck bug).
INTERNAL_ERROR = 70
#: A result bigger than this fails the run instead of bloating the runs table.
RESULT_LIMIT = 1024 * 1024


def load_runner(target: str) -> Callable[[JobContext], Any]:
    """The function a ``module:function`` runner string names."""
    module_name, _, attr = target.partition(":")
    runner: Callable[[JobContext], Any] = getattr(importlib.import_module(module_name), attr)
    return runner


def _become_job(fds: list[int], close: list[int], run_id: int, server_pid: int) -> int:
    """Own session and group, default signals, stdio on the pipes; returns the result fd."""
    os.setsid()
    signal.set_wakeup_fd(-1)
    for signum in (signal.SIGCHLD, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    for fd in close:
        os.close(fd)
    out_fd, err_fd, result_fd = fds
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.dup2(out_fd, 1)
    os.dup2(err_fd, 2)
    # Keep only stdio and the result pipe: the job must not inherit the server's other fds.
    keep = os.dup2(result_fd, 3) if result_fd != 3 else 3
    os.closerange(4, os.sysconf("SC_OPEN_MAX"))
    try:
        with open("/proc/self/comm", "w") as comm:
            comm.write(comm_marker(run_id))
    except OSError:
        pass
    if os.getppid() != server_pid:
        # The server died before it could report this child: the executor already gave the
        # attempt up, and kills what carries the marker. Never run the job unreported.
        os._exit(INTERNAL_ERROR)
    # Fresh line-buffered text streams on the new fds, so output reaches the log as it comes.
    sys.stdout, sys.stderr = _line_stream(1), _line_stream(2)
    return keep


def _line_stream(fd: int) -> TextIO:
    """A line-buffered UTF-8 text stream on ``fd`` (it lives as long as the child)."""
    return open(fd, "w", buffering=1, encoding="utf-8", errors="backslashreplace", closefd=False)


def _run(request: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    """Run the job; (exit status, report for the result pipe)."""
    job_type = lookup_job_type(request["job_type"])
    if job_type is None or job_type.runner is None:
        message = f"job type {request['job_type']!r} is not installed"
        return 1, {"ok": False, "error": message, "setup": True}
    try:
        config = job_type.config_model.model_validate(request["config"])
    except ValidationError as exc:
        return 1, {"ok": False, "error": f"invalid config: {config_problem(exc)}", "setup": True}
    context = JobContext(
        run_id=request["run_id"],
        attempt=request["attempt"],
        scheduled_for=request["scheduled_for"],
        job_name=request["job_name"],
        template_name=request.get("template_name"),
        config=config,
        parameters=request["parameters"],
        home=Path(request["home"]),
    )
    try:
        result = load_runner(job_type.runner)(context)
    except JobFailed as exc:
        return 1, {"ok": False, "error": exc.message, "result": exc.result}
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        if code == 0:
            return 0, {"ok": True, "result": None}
        return code, {"ok": False, "error": f"the job called sys.exit({exc.code!r})"}
    except BaseException as exc:
        traceback.print_exc()
        summary = "".join(traceback.format_exception_only(type(exc), exc)).strip()
        return 1, {"ok": False, "error": summary.splitlines()[-1] if summary else repr(exc)}
    return 0, {"ok": True, "result": result}


def _encode(report: dict[str, Any]) -> bytes:
    try:
        data = json.dumps(report, allow_nan=False).encode()
    except (TypeError, ValueError) as exc:
        kind = type(report.get("result")).__name__
        return json.dumps(
            {"ok": False, "error": f"the job's result ({kind}) is not JSON-serialisable: {exc}"}
        ).encode()
    if len(data) > RESULT_LIMIT:
        return json.dumps(
            {"ok": False, "error": f"the job's result is {len(data)} bytes; the limit is 1 MiB"}
        ).encode()
    return data


def child_main(request: dict[str, Any], fds: list[int], close: list[int]) -> NoReturn:
    """Run one job in this freshly forked child and exit; never returns to the server loop."""
    code = INTERNAL_ERROR
    try:
        result_fd = _become_job(fds, close, request["run_id"], request["server_pid"])
        os.environ.clear()
        os.environ.update(request["env"])
        if request.get("cwd"):
            os.chdir(request["cwd"])
        code, report = _run(request)
        data = _encode(report)
        if code == 0 and not json.loads(data)["ok"]:
            code = 1
        with os.fdopen(result_fd, "wb") as result_pipe:
            result_pipe.write(data)
    except BaseException:
        traceback.print_exc()
    finally:
        for stream in (sys.stdout, sys.stderr):
            try:
                if stream is not None:
                    stream.flush()
            except Exception:
                pass
        os._exit(code)
