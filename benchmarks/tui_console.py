"""The console on a database of 1M runs, timed as a terminal sees it, against a bare Textual app.

Both programs run on a pseudo-terminal (120x40); times are taken from the outside:
process start → first paint, → the table filled; a key → the next bytes drawn (cursor, page
down); resident memory; and the latency of a key while a job prints ~100k lines a second into
the run detail's log, which follows it. The bare app (``tui_bare_app.py``: a label and a
100-row DataTable) is measured in the same run, alternating with jobdeck, so machine noise
hits both alike; ratios are printed next to the goals of the console issue.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from pty_term import Terminal, plain
from runs_paging import fill, open_database

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
JOBDECK = str(ROOT / ".venv" / "bin" / "jobdeck")
PYTHON = sys.executable

#: Log cap for the flood run: more than its ~140 MB of output.
FLOOD_LOG_BYTES = 1 << 30
#: ~100k lines a second for 25 s: 1,000 lines every 10 ms.
FLOOD = (
    "import sys, time\n"
    "line = 'flood line %07d ' + 'x' * 40 + '\\n'\n"
    "n = 0\n"
    "end = time.monotonic() + 25\n"
    "while time.monotonic() < end:\n"
    "    tick = time.monotonic()\n"
    "    sys.stdout.write(''.join(line % (n + i) for i in range(1000)))\n"
    "    sys.stdout.flush()\n"
    "    n += 1000\n"
    "    time.sleep(max(0.0, 0.01 - (time.monotonic() - tick)))\n"
)


def percentile(samples: list[float], fraction: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, max(0, round(fraction * len(ordered)) - 1))]


def start_bare() -> tuple[Terminal, float, float]:
    """The bare app: seconds to first paint and to its table filled."""
    term = Terminal([PYTHON, str(HERE / "tui_bare_app.py")])
    try:
        first = term.shown_since_start("bare ready")
        filled = term.shown_since_start("row-0030")
    except BaseException:
        term.close()
        raise
    return term, first, filled


def start_jobdeck(env: dict[str, str]) -> tuple[Terminal, float, float]:
    """jobdeck on the runs screen: seconds to first paint and to the runs table filled."""
    term = Terminal([JOBDECK, "-c", "runs"], env=env)
    try:
        # The first frame: the runs screen's chrome (the backend opens after it is drawn).
        first = term.shown_since_start("filter all runs", timeout=120)
        # The border title says which rows are shown once they are: "Runs 1-200".
        filled = term.shown_since_start("Runs 1-", timeout=120)
    except BaseException:
        term.close()
        raise
    return term, first, filled


def keys_to_paint(term: Terminal, keys: list[str], pause: float) -> list[float]:
    """For each key: seconds until the terminal gets the next bytes."""
    samples = []
    for key in keys:
        samples.append(term.first_output_after(key))
        term.drain(0.03)
        time.sleep(pause)
    return samples


def cli(env: dict[str, str], *args: str) -> str:
    """Run the jobdeck CLI; return its stdout."""
    done = subprocess.run(
        [JOBDECK, *args], env=dict(os.environ, **env), capture_output=True, text=True, check=False
    )
    if done.returncode:
        raise RuntimeError(f"jobdeck {' '.join(args)}: {done.stderr.strip()}")
    return done.stdout


def last_flood_line(output: str) -> int:
    """The number of the newest flood line drawn so far (0 before the first)."""
    numbers = re.findall(r"flood line (\d{7})", plain(output[-(1 << 18) :]))
    return max(map(int, numbers), default=0)


def flood_latency(presses: int) -> list[float]:
    """Keypress → visible latency while the log view follows a job printing ~100k lines/s.

    In a database of its own: the console must own it from the start (a console killed by
    the previous measurement leaves its lease to lapse first).
    """
    with tempfile.TemporaryDirectory(prefix="jobdeck-tui-flood-") as home:
        # The whole flood is stored and followed: under the default 10 MiB cap the stored
        # log would stop growing within a second, and the view would follow nothing.
        env = {"JOBDECK_HOME": home, "JOBDECK_EXECUTOR__MAX_LOG_BYTES": str(FLOOD_LOG_BYTES)}
        return _flood_latency(env, presses)


def _flood_latency(env: dict[str, str], presses: int) -> list[float]:
    """Keypress → visible latency while the log view follows a job printing ~100k lines/s."""
    cli(
        env,
        "template",
        "create",
        "flood",
        "--type",
        "shell",
        "--config",
        "command=python3",
        "--config",
        "command=-c",
        "--config",
        f"command={FLOOD}",
    )
    term = Terminal([JOBDECK, "-c", "runs"], env=env)
    try:
        term.wait_for(" of ", timeout=120)
        time.sleep(2)  # the embedded owner starts after the first paint
        cli(env, "template", "run", "flood")
        term.wait_for("flood", timeout=30)
        term.send("g")
        time.sleep(0.5)
        term.send("o")
        term.wait_for("flood line", timeout=30)  # the log view shows the output
        time.sleep(1.0)  # well into the flood
        samples = []
        first_line, began = last_flood_line(term.output), time.perf_counter()
        for _ in range(presses):
            # `:` opens the command line; its placeholder is the proof the key was handled
            samples.append(term.visible_after(":", "tab completes", timeout=10))
            term.send("\x1b")
            time.sleep(0.25)
        followed = (last_flood_line(term.output) - first_line) / (time.perf_counter() - began)
        print(f"the log view showed {followed:,.0f} new lines/s while the keys were pressed")
        return samples
    finally:
        term.close()


def main() -> None:
    """Build the database, measure both programs alternately, print the comparison."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5, help="starts of each program")
    parser.add_argument("--keys", type=int, default=40, help="key presses per measurement")
    parser.add_argument("--flood-only", action="store_true", help="only the log-flood latency")
    args = parser.parse_args()
    # Measure jobdeck as installed: byte-compiled (an editable install is not, and with
    # PYTHONDONTWRITEBYTECODE set every start would compile it again).
    subprocess.run([PYTHON, "-m", "compileall", "-q", "core", "console"], cwd=ROOT, check=True)
    if args.flood_only:
        print_flood(flood_latency(args.keys))
        return

    with tempfile.TemporaryDirectory(prefix="jobdeck-tui-bench-") as home:
        with open_database("sqlite", str(Path(home) / "jobdeck.db"), keep=True) as db:
            began = time.perf_counter()
            fill(db, args.rows, seed=1)
            print(f"loaded {args.rows:,} runs in {time.perf_counter() - began:.1f} s")
        env = {"JOBDECK_HOME": home}
        results: dict[str, list[float]] = {
            name: [] for name in ("bare_first", "bare_filled", "jd_first", "jd_filled", "rss")
        }
        cursor: list[float] = []
        pagedown: list[float] = []
        bare_cursor: list[float] = []
        for rep in range(args.repeat):
            term, first, filled = start_bare()
            try:
                results["bare_first"].append(first)
                results["bare_filled"].append(filled)
                term.drain(0.3)
                bare_cursor += keys_to_paint(term, ["\x1b[B"] * (args.keys // args.repeat), 0.05)
            finally:
                term.close()
            term, first, filled = start_jobdeck(env)
            try:
                results["jd_first"].append(first)
                results["jd_filled"].append(filled)
                term.drain(0.5)
                cursor += keys_to_paint(term, ["\x1b[B"] * (args.keys // args.repeat), 0.05)
                pagedown += keys_to_paint(term, ["\x1b[6~"] * (args.keys // args.repeat), 0.1)
                results["rss"].append(term.rss_mb())
            finally:
                term.close()
            print(
                f"rep {rep}: bare {results['bare_first'][-1] * 1000:.0f}/"
                f"{results['bare_filled'][-1] * 1000:.0f} ms, jobdeck "
                f"{results['jd_first'][-1] * 1000:.0f}/{results['jd_filled'][-1] * 1000:.0f} ms, "
                f"rss {results['rss'][-1]:.0f} MB"
            )
        report(results, cursor, pagedown, bare_cursor)
    print_flood(flood_latency(args.keys))


def print_flood(flood: list[float]) -> None:
    """Print the log-flood latency."""
    p50, p95 = statistics.median(flood) * 1000, percentile(flood, 0.95) * 1000
    print(
        f"key → visible while the log follows ~100k lines/s: p50 {p50:.0f} ms  p95 {p95:.0f} ms"
        " (goal p95 ≤ 100 ms)"
    )


def report(
    results: dict[str, list[float]],
    cursor: list[float],
    pagedown: list[float],
    bare_cursor: list[float],
) -> None:
    """Print the start-up, repaint and memory comparison."""

    def ms(values: list[float]) -> str:
        p50, p95 = statistics.median(values) * 1000, percentile(values, 0.95) * 1000
        return f"p50 {p50:7.1f} ms  p95 {p95:7.1f} ms"

    first_ratio = statistics.median(results["jd_first"]) / statistics.median(results["bare_first"])
    filled_ratio = statistics.median(results["jd_filled"]) / statistics.median(
        results["bare_filled"]
    )
    print()
    print(
        f"start → first paint   bare {ms(results['bare_first'])}"
        f" | jobdeck {ms(results['jd_first'])}"
        f" | ratio {first_ratio:.2f} (goal ≤ 2)"
    )
    print(
        f"start → table filled  bare {ms(results['bare_filled'])}"
        f" | jobdeck {ms(results['jd_filled'])}"
        f" | ratio {filled_ratio:.2f} (goal ≤ 3)"
    )
    print(
        f"cursor down → repaint    bare {ms(bare_cursor)} | jobdeck {ms(cursor)} (goal p95 ≤ 50 ms)"
    )
    print(f"page down → repaint   jobdeck {ms(pagedown)} (goal p95 ≤ 50 ms)")
    print(f"RSS on the runs screen: max {max(results['rss']):.0f} MB (goal ≤ 120 MB)")


if __name__ == "__main__":
    main()
