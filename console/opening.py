"""Choosing and opening the backend an interface talks to, with driver errors in one line.

The one place both the CLI and the console go through: ``--backend``, the live owner's API,
or the database itself (``core.backend.factory.open_backend_for``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING

from core.errors import BackendUnavailable, JobdeckError

if TYPE_CHECKING:
    from core.backend.protocol import Backend
    from core.settings.config import Settings


def database_error(settings: Settings, exc: Exception) -> BackendUnavailable:
    """A driver error (refused connection, bad URL) while opening the database, in one line."""
    cause = getattr(exc, "orig", None) or exc  # the driver's words, not SQLAlchemy's wrapper
    detail = " ".join(str(cause).split()) or cause.__class__.__name__
    # Never echo a password from the URL into a terminal or a log.
    url = re.sub(r"(://[^:/@]*):[^@]*@", r"\1:***@", settings.resolved_database_url())
    return BackendUnavailable(f"cannot open the database {url}: {detail}")


async def open_interface_backend(
    settings: Settings,
    source: str,
    backend_arg: str | None,
    token: str | None,
    *,
    insecure: bool,
    warn: Callable[[str], None],
) -> tuple[Backend, str]:
    """The backend for ``source`` ("cli", "tui") and a few words saying which it is."""
    from core.backend.factory import open_backend_for

    try:
        return await open_backend_for(
            settings, source, backend_arg, token, insecure=insecure, warn=warn
        )
    except JobdeckError:
        raise
    except Exception as exc:
        raise database_error(settings, exc) from exc
