"""What the console writes to its terminal, in bytes, as a slow SSH link would carry them.

The real console (``jobdeck -c runs``) runs on a pseudo-terminal (120x40) over a seeded
``JOBDECK_HOME`` (2,000 finished runs) and every byte it writes is counted:

* idle on the runs screen, per second, with and without the status bar's row (its clock
  ticks once a second);
* following a live log of ~60 lines/s in the run detail, per second, against the bytes of
  the log lines themselves printed meanwhile (read back with ``jobdeck run logs``);
* per new run on the runs screen (a schedule every 3 s), with the cursor on the top row
  (following the newest: the rows shift) and below it (the rows on screen stay).

Baselines of the same run: a bare Textual app idle (``tui_bare_app.py``) and the same app
with a label updated every second (what a clock costs at least), and the log's own bytes.
Bytes are also told apart by screen row (the cursor moves the output makes).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import select
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from pty_term import Terminal
from runs_paging import fill, open_database
from sqlalchemy import text

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
JOBDECK = str(ROOT / ".venv" / "bin" / "jobdeck")
PYTHON = sys.executable
#: Lines a second the followed job prints, and for how long.
LOG_RATE = 60
LOG_SECONDS = 30
#: The followed job: the review's printer (a line number, the time, some text), in Python
#: so that its rate does not depend on how fast the machine forks `date`.
PRINTER = (
    "import sys, time\n"
    f"start = time.time(); n = 0\n"
    f"while time.time() - start < {LOG_SECONDS}:\n"
    "    n += 1\n"
    "    print(f'line {n} at {time.time():.9f} some text ERROR-{n % 50}', flush=True)\n"
    f"    time.sleep(max(0.0, start + n / {LOG_RATE} - time.time()))\n"
)
#: A bare Textual app with a label updated every second: the least a clock can cost.
BARE_CLOCK = (
    "import time\n"
    "from textual.app import App\n"
    "from textual.widgets import Label\n"
    "class Clock(App):\n"
    "    def compose(self):\n"
    "        yield Label('bare ready', id='clock')\n"
    "    def on_mount(self):\n"
    "        self.set_interval(1, lambda: self.query_one(Label).update(time.strftime("
    "'%Y-%m-%d %H:%M:%S UTC')))\n"
    "Clock().run()\n"
)
_MOVE = re.compile(rb"\x1b\[(\d+);(\d+)H")


class CountingTerminal(Terminal):
    """A Terminal that keeps the raw bytes it received, to count them."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.raw = bytearray()

    def read(self, timeout: float) -> str:
        ready, _, _ = select.select([self.master], [], [], timeout)
        if not ready:
            return ""
        try:
            data = os.read(self.master, 1 << 16)
        except OSError:
            return ""
        self.raw += data
        chunk = data.decode("utf-8", "replace")
        self.output += chunk
        return chunk

    def count(self, seconds: float) -> bytes:
        """The bytes written during the next ``seconds``."""
        mark = len(self.raw)
        end = time.monotonic() + seconds
        while (left := end - time.monotonic()) > 0:
            self.read(min(left, 0.05))
        return bytes(self.raw[mark:])


def by_row(data: bytes) -> Counter[int]:
    """Bytes by the screen row (1-based) the cursor was moved to before them (0: none)."""
    rows: Counter[int] = Counter()
    moves = list(_MOVE.finditer(data))
    rows[0] += moves[0].start() if moves else len(data)
    ends = [move.start() for move in moves[1:]] + [len(data)]
    for move, end in zip(moves, ends, strict=True):
        rows[int(move.group(1))] += end - move.start()
    return rows


def step(what: str) -> None:
    """Say what is being measured (on stderr: stdout is the report)."""
    print(f"... {what}", file=sys.stderr, flush=True)


def cli(env: dict[str, str], *args: str) -> str:
    """Run the jobdeck CLI; return its stdout."""
    done = subprocess.run(
        [JOBDECK, *args], env=dict(os.environ, **env), capture_output=True, text=True, check=False
    )
    if done.returncode:
        raise RuntimeError(f"jobdeck {' '.join(args)}: {done.stderr.strip()}")
    return done.stdout


def seed(home: str) -> dict[str, str]:
    """A home with 2,000 finished runs (no schedule due) and the templates used below."""
    with open_database("sqlite", str(Path(home) / "jobdeck.db"), keep=True) as db:
        fill(db, 2000, seed=1)
        with db.engine.begin() as connection:
            # Nothing live: no schedule fires, no run ticks or is recovered at start.
            connection.execute(text("UPDATE job_schedules SET is_active = false"))
            connection.execute(
                text(
                    "UPDATE job_runs SET status = 'completed', completed_at = queued_at, "
                    "started_at = queued_at, duration_seconds = 1 "
                    "WHERE status IN ('running', 'pending')"
                )
            )
    env = {"JOBDECK_HOME": home}
    cli(env, "template", "create", "hello", "--type", "shell", "--config", "command=true")
    config = ["--config", "command=python3", "--config", "command=-c"]
    cli(env, "template", "create", "printer", "--type", "shell", *config,
        "--config", f"command={PRINTER}")  # fmt: skip
    return env


def bare(argv: list[str], seconds: float) -> float:
    """Bytes a second a bare Textual app writes once drawn."""
    term = CountingTerminal(argv)
    try:
        term.wait_for("bare ready", timeout=60)
        term.count(1.0)
        return len(term.count(seconds)) / seconds
    finally:
        term.close()


def rate(data: bytes, seconds: float, rows: set[int] | None = None) -> float:
    """Bytes a second, of the given rows only when ``rows`` is given."""
    counted = by_row(data)
    total = sum(n for row, n in counted.items() if rows is None or row in rows)
    return total / seconds


def log_bytes(env: dict[str, str], run_id: str, began: float, ended: float) -> int:
    """Bytes of the printer's lines printed between ``began`` and ``ended`` (epoch seconds)."""
    total = 0
    for line in cli(env, "run", "logs", run_id).splitlines():
        found = re.match(r"line \d+ at (\d+\.\d+) ", line)
        if found and began <= float(found.group(1)) < ended:
            total += len(line.encode()) + 1
    return total


def run_ids(env: dict[str, str]) -> set[int]:
    """Ids of the schedule's runs so far."""
    listed = json.loads(
        cli(env, "run", "list", "--json", "--schedule", "hello-3s", "--limit", "1000")
    )
    items = listed["items"] if isinstance(listed, dict) else listed
    return {item["id"] for item in items}


def new_runs(term: CountingTerminal, env: dict[str, str], seconds: float) -> tuple[bytes, int]:
    """The bytes written over ``seconds`` and the schedule's runs queued meanwhile."""
    before = run_ids(env)
    data = term.count(seconds)
    return data, len(run_ids(env) - before)


def main() -> None:
    """Seed a home, run the console on it, print what each situation costs."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="idle and log windows")
    parser.add_argument("--runs-seconds", type=float, default=30.0, help="new-run windows")
    args = parser.parse_args()
    subprocess.run([PYTHON, "-m", "compileall", "-q", "core", "console"], cwd=ROOT, check=True)
    seconds = args.seconds

    bare_idle = bare([PYTHON, str(HERE / "tui_bare_app.py")], seconds)
    bare_clock = bare([PYTHON, "-c", BARE_CLOCK], seconds)
    with tempfile.TemporaryDirectory(prefix="jobdeck-bytes-") as home:
        env = seed(home)
        term = CountingTerminal([JOBDECK, "-c", "runs"], env=env)
        try:
            term.wait_for("Runs 1-", timeout=120)
            term.wait_for("● live", timeout=60)
            term.count(3.0)  # the embedded owner starts after the first frame
            step("idle on the runs screen")
            idle = term.count(seconds)
            idle_total = rate(idle, seconds)
            idle_rows = by_row(idle)
            idle_other = (sum(idle_rows.values()) - idle_rows[1]) / seconds

            step("following a log")
            started = json.loads(cli(env, "template", "run", "printer", "--json"))
            run_id = str(started["id"])
            term.wait_for("printer", timeout=30, since=len(term.output))
            term.send("g")
            term.count(0.5)
            term.send("o")
            term.wait_for("line ", timeout=30, since=len(term.output))
            term.count(2.0)
            began = time.time()
            follow = term.count(seconds)
            ended = time.time()
            follow_rate = rate(follow, seconds)
            follow_rows = by_row(follow)
            cli(env, "run", "cancel", run_id)
            own = log_bytes(env, run_id, began, ended) / (ended - began)

            term.send("\x1b")  # back to the runs screen
            term.count(1.0)
            step("new runs, the cursor on the top row, then below it")
            cli(env, "schedule", "create", "hello-3s", "--template", "hello", "--every", "3s")
            term.send("g")
            term.count(4.0)
            top, top_runs = new_runs(term, env, args.runs_seconds)
            term.send("jjjjj")
            term.count(1.0)
            below, below_runs = new_runs(term, env, args.runs_seconds)
        finally:
            term.close()

    def per_run(data: bytes, runs: int) -> str:
        if not runs:
            return "no runs arrived"
        gross = len(data) / runs
        net = (len(data) - idle_total * args.runs_seconds) / runs
        return f"{gross:,.0f} bytes/run ({net:,.0f} without the idle bytes), {runs} runs"

    print(f"baseline: bare Textual app idle            {bare_idle:8,.0f} bytes/s")
    print(f"baseline: bare app, a label every second   {bare_clock:8,.0f} bytes/s")
    print(
        f"idle on the runs screen                    {idle_total:8,.0f} bytes/s"
        f" ({idle_other:,.0f} without the status bar row and its clock; goal ≤ 200)"
    )
    print(
        f"following a log of ~{LOG_RATE} lines/s             {follow_rate:8,.0f} bytes/s"
        f" (the log's own bytes {own:,.0f}/s: {follow_rate / own:.1f}x; goal ≤ 3x)"
    )
    top_rows = ", ".join(f"row {r}: {n / seconds:,.0f}" for r, n in follow_rows.most_common(6))
    print(f"    while following, bytes/s by screen row: {top_rows}")
    print(f"a new run, cursor on the top row           {per_run(top, top_runs)} (goal ≤ 2 KB)")
    print(f"a new run, cursor below the top row        {per_run(below, below_runs)} (goal ≤ 2 KB)")


if __name__ == "__main__":
    main()
