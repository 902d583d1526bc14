"""The `jobdeck` command: the TUI when run bare, else a scriptable CLI over the Backend protocol.

Exit codes: 0 success, 1 failure (backend unavailable, permission denied, unexpected), 2 bad
input (usage errors, unknown names, conflicts, validation failures), 130 interrupted.
Set JOBDECK_DEBUG=1 to get a traceback for unexpected errors.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import sys
from pathlib import Path

from console.commands import Context, register
from console.commands.options import (
    Parser,
    UsageError,
    add_attach_options,
    attach_token,
    option_for,
)
from console.entry import startup_done
from console.opening import database_error, open_interface_backend
from core.backend.protocol import Backend
from core.errors import (
    JobdeckError,
    PermissionDenied,
    ValidationFailed,
)
from core.settings.config import Settings, load_settings

EPILOG = """\
without a command, jobdeck starts the terminal console (TUI).
exit codes: 0 ok, 1 failure, 2 bad input.
environment: JOBDECK_HOME (data directory), JOBDECK_CONFIG (config file),
  JOBDECK_DATABASE_URL (PostgreSQL instead of SQLite), JOBDECK_TIMEZONE (display zone),
  JOBDECK_TOKEN (API token for --backend, or for the owner's API).
attaching: with a live owner of the database (`jobdeck daemon`, an embedded TUI) that serves
  its API, commands go through that API; --backend URL|NAME attaches to any daemon.
examples:
  jobdeck template create hello --type shell --config command='echo hello'
  jobdeck schedule create hello-daily --template hello --daily 06:30 --tz Europe/Riga
  jobdeck schedule preview --cron '0 9 * * 1' --tz UTC -n 3
  jobdeck run list --status failed --since 1d
  JOBDECK_TOKEN=jd_... jobdeck --backend http://127.0.0.1:8765 template list --json
"""


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("jobdeck")
    except PackageNotFoundError:
        return "unknown (not installed)"


class _VersionAction(argparse.Action):
    """--version: looks the installed version up only when asked (it scans the packages)."""

    def __init__(self, option_strings: list[str], dest: str, **kwargs: object) -> None:
        super().__init__(option_strings, dest, nargs=0, help="show the version and exit")

    def __call__(self, parser: argparse.ArgumentParser, *args: object) -> None:
        sys.stdout.write(f"jobdeck {_version()}\n")
        parser.exit()


def build_parser(*, with_commands: bool = True) -> argparse.ArgumentParser:
    """The whole command line: global options, then template / schedule / run verbs
    (``with_commands=False``: the global options alone, enough to start the console)."""
    parser = Parser(
        prog="jobdeck",
        description="Keyboard-driven console and scheduler for scheduled jobs.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--config", dest="config_file", metavar="PATH", type=Path, help="config file (TOML)"
    )
    parser.add_argument("--read-only", action="store_true", help="refuse every write")
    add_attach_options(parser)
    parser.add_argument(
        "-c",
        "--command",
        dest="start_command",
        metavar="CMD",
        default="templates",
        help="TUI: the command line to start with, e.g. -c runs or -c 'runs failed'",
    )
    parser.add_argument("--version", action=_VersionAction)
    if with_commands:
        nouns = parser.add_subparsers(dest="noun", metavar="COMMAND")
        register(nouns)
    return parser


def parse_arguments(argv: list[str] | None) -> argparse.Namespace:
    """The parsed command line. Starting the console (global options only) skips building
    the parsers of every command, a twentieth of the console's start-up."""
    words = sys.argv[1:] if argv is None else argv
    if not {"-h", "--help", "--version"} & set(words):
        try:
            args, rest = build_parser(with_commands=False).parse_known_args(words)
        except UsageError:
            rest = words  # the whole parser says what is wrong, with its usage
        if not rest:
            args.noun = None
            return args
    return build_parser().parse_args(words)


def open_backend(settings: Settings) -> Backend:
    """The local backend on the configured database (no attaching)."""
    from core.backend.factory import open_local_backend

    try:
        return open_local_backend(settings, source="cli")
    except JobdeckError:
        raise
    except Exception as exc:
        raise database_error(settings, exc) from exc


def warn(message: str) -> None:
    """One warning line on stderr."""
    text = " ".join(message.split())
    sys.stderr.write(f"jobdeck: warning: {text}\n")


async def open_cli_backend(settings: Settings, args: argparse.Namespace) -> Backend:
    """The backend the CLI talks to (--backend, the owner's API, or the database)."""
    backend, _ = await open_interface_backend(
        settings,
        "cli",
        getattr(args, "backend", None),
        attach_token(args),
        insecure=getattr(args, "insecure", False),
        warn=warn,
    )
    return backend


async def _run(args: argparse.Namespace, settings: Settings) -> int:
    """Open the backend, refuse writes in read-only mode, run the handler, close."""
    backend = await open_cli_backend(settings, args)
    try:
        if args.writes and not backend.capabilities.writable:
            raise PermissionDenied(
                f"read-only mode: 'jobdeck {args.noun} {args.verb}' would change data "
                "(drop --read-only, or read_only in the config)"
            )
        ctx = Context(backend=backend, zone=settings.timezone, settings=settings)
        code: int = await args.handler(ctx, args)
        return code
    finally:
        await backend.close()


def _message(exc: JobdeckError, args: argparse.Namespace | None) -> str:
    """The user-facing text of an error; validation fields named as CLI options."""
    if isinstance(exc, ValidationFailed) and exc.field:
        overrides = getattr(args, "field_overrides", None)
        # Cross-field problems mention the other field by its core name ("after start_at").
        problem = re.sub(r"\b(start_at|end_at)\b", lambda m: option_for(m.group()), exc.problem)
        return f"{option_for(exc.field, overrides)}: {problem}"
    return str(exc)


def _fail(message: str, code: int) -> int:
    """Print exactly one line to stderr and return the exit code."""
    text = " ".join(message.split())
    sys.stderr.write(f"jobdeck: error: {text}\n")
    return code


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `jobdeck` console script; returns the exit code."""
    args: argparse.Namespace | None = None
    try:
        try:
            args = parse_arguments(argv)
        except SystemExit as exc:  # --help and --version
            return exc.code if isinstance(exc.code, int) else 0
        if args.noun is not None:
            startup_done()  # the console does once its first screen has its data
        overrides = {"read_only": True} if args.read_only else {}
        settings = load_settings(args.config_file, **overrides)
        if args.noun is None:
            from console.app import run_tui  # only the TUI pays for importing Textual

            return run_tui(
                settings,
                read_only=settings.read_only,
                start=args.start_command,
                backend=args.backend,
                token=attach_token(args),
                insecure=args.insecure,
            )
        standalone = getattr(args, "standalone", None)
        if standalone is not None:
            if args.backend:
                raise UsageError(
                    f"'jobdeck {args.noun}' works on the database directly (it is not part of "
                    "the daemon's API): run it without --backend, where the database is"
                )
            return int(standalone(settings, args))
        return asyncio.run(_run(args, settings))
    except UsageError as exc:
        return _fail(str(exc), 2)
    except JobdeckError as exc:
        return _fail(_message(exc, args), 2 if exc.bad_input else 1)
    except KeyboardInterrupt:
        return _fail("interrupted", 130)
    except BrokenPipeError:
        # The reader (head, less) went away; stop quietly instead of a traceback at exit.
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115
        return 1
    except Exception as exc:
        if os.environ.get("JOBDECK_DEBUG"):
            raise
        return _fail(f"unexpected {exc.__class__.__name__}: {exc} (JOBDECK_DEBUG=1 for details)", 1)


if __name__ == "__main__":
    sys.exit(main())
