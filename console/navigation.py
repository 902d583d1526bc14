"""The command-line vocabulary: `:templates`, `:runs failed`, `:q` and their aliases."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Command:
    """A command of the `:` line; ``screen`` names the mode it switches to, if any."""

    name: str
    aliases: tuple[str, ...]
    help: str
    screen: str | None = None

    def matches(self, word: str) -> bool:
        """Whether ``word`` is this command's name or one of its aliases."""
        return word == self.name or word in self.aliases


COMMANDS: tuple[Command, ...] = (
    Command("templates", ("t", "tpl", "template"), "job templates", "templates"),
    Command(
        "schedules", ("s", "sch", "schedule", "cron"), "schedules and their ledger", "schedules"
    ),
    Command("runs", ("r", "run", "jobs"), "runs (:runs failed filters by status)", "runs"),
    Command("workers", ("w", "wk", "worker", "pool"), "executor pools", "workers"),
    Command("theme", ("colors",), "switch the colour theme (:theme NAME)"),
    Command("keys", ("help", "?"), "show every key of this screen"),
    Command("quit", ("q", "q!", "exit"), "leave jobdeck"),
)


def parse(line: str) -> tuple[Command, str] | None:
    """The command and its argument for a typed line (leading ':' optional), or None."""
    words = line.strip().lstrip(":").split(maxsplit=1)
    if not words:
        return None
    word = words[0].lower()
    for command in COMMANDS:
        if command.matches(word):
            return command, words[1].strip() if len(words) > 1 else ""
    return None


def completions(prefix: str) -> list[Command]:
    """Commands whose name or an alias starts with ``prefix``, best first."""
    word = prefix.strip().lstrip(":").lower()
    exact = [c for c in COMMANDS if c.matches(word)]
    by_name = [c for c in COMMANDS if c.name.startswith(word) and c not in exact]
    by_alias = [
        c
        for c in COMMANDS
        if c not in exact and c not in by_name and any(a.startswith(word) for a in c.aliases)
    ]
    return exact + by_name + by_alias
