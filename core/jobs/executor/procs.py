"""Process groups on this host: find them in /proc, tell whose they are, kill them with a grace."""

from __future__ import annotations

import asyncio
import os
import re
import signal
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache

#: The environment variable that marks every process of a run (and the job can read).
RUN_ID_ENV = "JOBDECK_RUN_ID"
_COMM_MARK = re.compile(r"^jd(?:-run-)?(\d+)$")


class SpawnFailed(Exception):
    """The job's program could not be started; ``exit_code`` follows the shell's convention."""

    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def spawn_error(exc: OSError, argv: list[str], cwd: str | None) -> SpawnFailed:
    """What an exec failure means to an operator (127: not found, 126: cannot execute)."""
    if isinstance(exc, FileNotFoundError):
        if cwd and exc.filename == cwd:
            return SpawnFailed(f"working directory {cwd!r} does not exist", 127)
        return SpawnFailed(f"command not found: {argv[0]}", 127)
    if isinstance(exc, PermissionError):
        return SpawnFailed(f"permission denied: {argv[0]}", 126)
    return SpawnFailed(f"cannot start {argv[0]}: {exc}", 126)


def comm_marker(run_id: int) -> str:
    """The process name a fork-server child takes, so /proc shows whose it is (15 bytes max)."""
    name = f"jd-run-{run_id}"
    return name if len(name) <= 15 else f"jd{run_id}"[:15]


@dataclass(frozen=True)
class ProcInfo:
    """One process as /proc/<pid>/stat describes it."""

    pid: int
    ppid: int
    pgid: int
    state: str
    comm: str
    start_ticks: int

    @property
    def zombie(self) -> bool:
        """Exited but not reaped: holds its pid, runs nothing, cannot be killed."""
        return self.state in ("Z", "X")


def read_proc(pid: int) -> ProcInfo | None:
    """The process ``pid``, or None when it is gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            raw = handle.read()
    except OSError:
        return None
    # comm may hold spaces and parentheses: it ends at the last ')'.
    head, _, rest = raw.rpartition(b")")
    comm = head.partition(b"(")[2].decode(errors="replace")
    fields = rest.split()
    return ProcInfo(
        pid=pid,
        ppid=int(fields[1]),
        pgid=int(fields[2]),
        state=fields[0].decode(),
        comm=comm,
        start_ticks=int(fields[19]),
    )


def processes() -> Iterator[ProcInfo]:
    """Every process on this host that is still there when its entry is read."""
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            info = read_proc(int(entry.name))
            if info is not None:
                yield info


def group_members(pgid: int) -> list[ProcInfo]:
    """The live (non-zombie) processes of process group ``pgid``."""
    return [p for p in processes() if p.pgid == pgid and not p.zombie]


def run_marker(info: ProcInfo) -> int | None:
    """The run a process belongs to: its JOBDECK_RUN_ID, or a fork-server child's name."""
    match = _COMM_MARK.match(info.comm)
    if match:
        return int(match.group(1))
    try:
        with open(f"/proc/{info.pid}/environ", "rb") as handle:
            environ = handle.read()
    except OSError:  # gone, or another user's process
        return None
    prefix = RUN_ID_ENV.encode() + b"="
    for item in environ.split(b"\0"):
        if item.startswith(prefix):
            value = item[len(prefix) :]
            return int(value) if value.isdigit() else None
    return None


def marked_processes() -> list[tuple[ProcInfo, int]]:
    """Every live process carrying a run marker, with its run id."""
    found = []
    for info in processes():
        if info.zombie:
            continue
        run_id = run_marker(info)
        if run_id is not None:
            found.append((info, run_id))
    return found


@cache
def _boot_time() -> datetime:
    with open("/proc/stat", "rb") as handle:
        for line in handle:
            if line.startswith(b"btime "):
                return datetime.fromtimestamp(int(line.split()[1]), UTC)
    raise OSError("no btime in /proc/stat")


def started_at(info: ProcInfo) -> datetime:
    """When the process started (wall clock, to the kernel's tick)."""
    return _boot_time() + timedelta(seconds=info.start_ticks / os.sysconf("SC_CLK_TCK"))


def signal_group(pgid: int, signum: int) -> bool:
    """Send ``signum`` to the group; False when no process of ours is left in it."""
    try:
        os.killpg(pgid, signum)
    except (ProcessLookupError, PermissionError):
        return False
    return True


async def _wait_group_gone(pgid: int, seconds: float) -> bool:
    loop = asyncio.get_running_loop()
    end = loop.time() + seconds
    while True:
        if not await asyncio.to_thread(group_members, pgid):
            return True
        if loop.time() >= end:
            return False
        await asyncio.sleep(0.05)


async def kill_marked(run_id: int, grace: float) -> list[int]:
    """Kill every live group on this host marked as ``run_id``'s; the groups killed."""
    marked = await asyncio.to_thread(marked_processes)
    groups = sorted({info.pgid for info, marked_run in marked if marked_run == run_id})
    await asyncio.gather(*(kill_group(pgid, grace) for pgid in groups))
    return groups


async def kill_group(pgid: int, grace: float) -> int | None:
    """SIGTERM the group, SIGKILL whatever is left after ``grace``; the last signal sent."""
    if not signal_group(pgid, signal.SIGTERM):
        return None
    if await _wait_group_gone(pgid, grace):
        return signal.SIGTERM
    # A process stuck in uninterruptible sleep dies only when its I/O ends: try for a while.
    for _ in range(30):
        if not signal_group(pgid, signal.SIGKILL) or await _wait_group_gone(pgid, 1.0):
            break
    return signal.SIGKILL
