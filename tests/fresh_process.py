"""Running a snippet in a fresh interpreter: what a start-up path imports."""

from __future__ import annotations

import ast
import subprocess
import sys


def packages_loaded(code: str, packages: tuple[str, ...]) -> list[str]:
    """The modules of ``packages`` a fresh interpreter has loaded after running ``code``."""
    script = (
        f"{code}\n"
        "import sys\n"
        f"print(sorted(m for m in sys.modules if m.split('.')[0] in {packages!r}))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=60
    )
    loaded: list[str] = ast.literal_eval(done.stdout.strip().splitlines()[-1])
    return loaded
