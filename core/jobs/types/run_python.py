"""Runner of the `python` job type: call ``module:function`` with kwargs and parameters."""

from __future__ import annotations

import asyncio
import importlib
import inspect
import sys
from typing import Any

from core.jobs.types.context import JobContext, JobFailed
from core.jobs.types.python import PythonConfig


def resolve_callable(target: str) -> Any:
    """The object ``module:attr.attr`` names; a clear JobFailed when it no longer exists (F20)."""
    module_name, _, attr_path = target.partition(":")
    try:
        obj: Any = importlib.import_module(module_name)
    except ImportError as exc:
        raise JobFailed(f"cannot import module {module_name!r}: {exc}") from None
    for part in attr_path.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            raise JobFailed(f"{target!r} does not exist ({module_name} has no {part!r})") from None
    if not callable(obj):
        raise JobFailed(f"{target!r} is not callable")
    return obj


def run(context: JobContext) -> Any:
    """Call the configured function; parameters override fixed kwargs of the same name."""
    config = context.config
    assert isinstance(config, PythonConfig)
    for entry in reversed(config.python_path):
        if entry not in sys.path:
            sys.path.insert(0, entry)
    function = resolve_callable(config.callable)
    result = function(**{**config.kwargs, **context.parameters})
    if inspect.isawaitable(result):
        # An async job function gets its own event loop in the child.
        async def _await() -> Any:
            return await result

        result = asyncio.run(_await())
    return result
