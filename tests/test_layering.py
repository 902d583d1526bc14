"""The one layering rule: core never imports console, textual or rich, and does no work on import."""

from __future__ import annotations

import json
import os
import pkgutil
import subprocess
import sys
from pathlib import Path

import core

ROOT = Path(__file__).resolve().parents[1]


def core_modules() -> list[str]:
    """Every module under the core package (migration scripts are run by Alembic, not imported)."""
    names = ["core"]
    for info in pkgutil.walk_packages(core.__path__, prefix="core."):
        if ".migrations." in info.name or info.name.endswith(".migrations.env"):
            continue
        names.append(info.name)
    return sorted(names)


def test_there_are_many_core_modules() -> None:
    # Guards the walk itself: an empty list would make the next test pass vacuously.
    assert len(core_modules()) > 20


def test_core_imports_no_ui_in_a_fresh_interpreter(tmp_path: Path) -> None:
    script = (
        "import importlib, json, sys\n"
        f"for name in {core_modules()!r}:\n"
        "    importlib.import_module(name)\n"
        "banned = sorted(m for m in sys.modules\n"
        "                if m.split('.')[0] in ('textual', 'rich', 'console'))\n"
        "print(json.dumps(banned))\n"
    )
    env = {**os.environ, "JOBDECK_HOME": str(tmp_path / "home")}
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert json.loads(result.stdout) == []
    # No work at import time: importing every module created no data directory or database.
    assert not (tmp_path / "home").exists()


def test_import_linter_contract_forbids_ui_in_core() -> None:
    text = (ROOT / "pyproject.toml").read_text()
    assert 'source_modules = ["core"]' in text
    assert 'forbidden_modules = ["console", "textual", "rich"]' in text


def test_no_private_module_of_a_library_is_imported() -> None:
    """Public API only: an upgrade of Textual (or any library) must not silently change what
    we draw, so no `textual._x` (or any `lib._x`) module is imported by the product."""
    import ast

    offenders = []
    sources = [*(ROOT / "core").rglob("*.py"), *(ROOT / "console").rglob("*.py")]
    assert len(sources) > 50
    for path in sources:
        tree = ast.parse(path.read_text(), str(path))
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            for name in names:
                top, *rest = name.split(".")
                if top not in ("core", "console") and any(p.startswith("_") for p in rest):
                    offenders.append(f"{path.relative_to(ROOT)}:{node.lineno} {name}")
    assert not offenders
