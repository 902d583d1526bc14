"""The `jobdeck` executable: start with the cyclic garbage collector paused.

Start-up allocates hundreds of thousands of long-lived objects (modules, classes, Textual's
styles, SQLAlchemy's tables) and frees almost none; collecting while they are created only
slows the start (by a sixth, measured). ``startup_done`` turns the collector back on: the CLI
right after parsing, the console once its first screen has its data (after ``settle_heap``
has collected once and frozen what start-up built).
"""

from __future__ import annotations

import gc


def main() -> int:
    """Entry point of the `jobdeck` console script; returns the exit code."""
    gc.disable()
    try:
        from console.cli import main as cli_main

        return cli_main()
    finally:
        startup_done()


def startup_done() -> None:
    """Collect garbage again from now on."""
    gc.enable()


def settle_heap() -> None:
    """Free start-up's garbage, then keep what lives on out of later collections, so a
    collection walks only new objects (shorter pauses while the operator types)."""
    gc.collect()
    gc.freeze()
