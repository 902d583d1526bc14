"""Crontab expressions (five fields, Vixie/ISC cron semantics) parsed into a validated CronSpec."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from datetime import date

from core.errors import ValidationFailed

#: Longer input is rejected before any other work, so hostile strings cost nothing.
MAX_EXPRESSION_LENGTH = 256

FIELD_NAMES = ("minute", "hour", "day_of_month", "month", "day_of_week")

MONTH_NAMES = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
WEEKDAY_NAMES = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
_MONTH_TITLES = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
# The longest each month can be (Feb 29 exists in leap years); used to reject dead expressions.
_MAX_DAYS = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)

MACROS = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}

# (low, high, largest useful step, names); day_of_week accepts 7 as a second Sunday, like Vixie.
_BOUNDS: dict[str, tuple[int, int, int, tuple[str, ...]]] = {
    "minute": (0, 59, 60, ()),
    "hour": (0, 23, 24, ()),
    "day_of_month": (1, 31, 31, ()),
    "month": (1, 12, 12, MONTH_NAMES),
    "day_of_week": (0, 7, 7, WEEKDAY_NAMES),
}
_ITEM = re.compile(r"(\*|[a-z0-9]+)(?:-([a-z0-9]+))?(?:/([0-9]+))?", re.ASCII | re.IGNORECASE)
_FORMS = "use *, N, A-B, */N, A-B/N or A/N, separated by commas"


@dataclass(frozen=True)
class CronSpec:
    """A parsed crontab expression: the allowed values of each field (day_of_week 0 = Sunday)."""

    expression: str
    minutes: frozenset[int]
    hours: frozenset[int]
    days_of_month: frozenset[int]
    months: frozenset[int]
    days_of_week: frozenset[int]
    dom_restricted: bool
    dow_restricted: bool
    #: False when the hour field starts with ``*``: such schedules are "hourly and finer" for DST.
    hour_restricted: bool = True

    def matches_date(self, day: date) -> bool:
        """True when the expression fires on ``day`` (Vixie rule: DOM OR DOW if both restricted)."""
        if day.month not in self.months:
            return False
        dom_ok = day.day in self.days_of_month
        dow_ok = day.isoweekday() % 7 in self.days_of_week
        if self.dom_restricted and self.dow_restricted:
            return dom_ok or dow_ok
        return dom_ok and dow_ok

    def __str__(self) -> str:
        return self.expression


def parse_cron(expr: str, field: str = "cron_expression") -> CronSpec:
    """Parse a five-field crontab expression or @macro; raise ValidationFailed naming the field."""
    if not isinstance(expr, str):
        raise ValidationFailed(field, "must be a string")
    if len(expr) > MAX_EXPRESSION_LENGTH:
        raise ValidationFailed(
            field, f"is {len(expr)} characters long; the limit is {MAX_EXPRESSION_LENGTH}"
        )
    return _parse_checked(expr, field)


# Every fire-time search re-validates its timing and builds its rule, so the same expression
# is parsed again and again; a CronSpec is immutable, so one parse serves them all. Rejections
# raise and are not cached.
@functools.lru_cache(maxsize=4096)
def _parse_checked(expr: str, field: str) -> CronSpec:
    text = expr.strip()
    if not text:
        raise ValidationFailed(field, f"is empty; give five fields ({' '.join(FIELD_NAMES)})")
    if not text.isascii():
        _reject_non_ascii(text, field)
    first = text.split()[0]
    if "=" in first:
        name = first.split("=", 1)[0]
        raise ValidationFailed(
            field,
            f"'{name}=' is not allowed inside the expression; "
            "the timezone is a separate setting of the schedule",
        )
    source = text
    if text.startswith("@"):
        text = _expand_macro(text, field)
    parts = text.split()
    if len(parts) != 5:
        raise ValidationFailed(field, _count_problem(len(parts)))
    sets: list[frozenset[int]] = []
    for name, part in zip(FIELD_NAMES, parts, strict=True):
        sets.append(_parse_field(part, name, f"{field}.{name}"))
    dom_restricted = not parts[2].startswith("*")
    dow_restricted = not parts[4].startswith("*")
    spec = CronSpec(
        expression=source,
        minutes=sets[0],
        hours=sets[1],
        days_of_month=sets[2],
        months=sets[3],
        days_of_week=sets[4],
        dom_restricted=dom_restricted,
        dow_restricted=dow_restricted,
        hour_restricted=not parts[1].startswith("*"),
    )
    _reject_dead(spec, field)
    return spec


def _reject_non_ascii(text: str, field: str) -> None:
    """Name the sub-field holding the first non-ASCII character (int() accepts fullwidth digits)."""
    char = next(c for c in text if not c.isascii())
    what = "is not an ASCII digit; use 0-9" if char.isnumeric() else "is not allowed"
    problem = f"'{char}' (U+{ord(char):04X}) {what}"
    parts = text.split()
    if len(parts) == 5:
        for name, part in zip(FIELD_NAMES, parts, strict=True):
            if not part.isascii():
                raise ValidationFailed(f"{field}.{name}", problem)
    raise ValidationFailed(field, problem)


def _expand_macro(text: str, field: str) -> str:
    """Replace an @macro by its five fields; @reboot has no fire times, so it is refused."""
    key = text.lower()
    if key == "@reboot":
        raise ValidationFailed(
            field, "@reboot is not supported: jobdeck schedules fire at times, not at startup"
        )
    if key not in MACROS:
        raise ValidationFailed(field, f"unknown macro '{text}'; use one of {', '.join(MACROS)}")
    return MACROS[key]


def _count_problem(count: int) -> str:
    """Explain a wrong field count; six fields is usually a seconds (Quartz) expression."""
    expected = f"expected 5 ({' '.join(FIELD_NAMES)})"
    if count == 6:
        return f"has 6 fields, {expected}; seconds and year fields are not supported"
    return f"has {count} field{'s' if count != 1 else ''}, {expected}"


def _parse_field(text: str, name: str, path: str) -> frozenset[int]:
    """Expand one field (a comma list of items) into its set of values."""
    low, high, max_step, _ = _BOUNDS[name]
    values: set[int] = set()
    for item in text.split(","):
        if not item:
            raise ValidationFailed(path, f"'{text}' has an empty list item")
        match = _ITEM.fullmatch(item)
        if match is None or (match.group(1) == "*" and match.group(2) is not None):
            raise ValidationFailed(path, f"'{item}' is not valid; {_FORMS}")
        start_text, end_text, step_text = match.groups()
        if start_text == "*":
            start, end = low, high
        else:
            start = _value(start_text, name, path)
            # "a/n" means a-max/n (cronie); a bare value is a one-element range.
            end = _value(end_text, name, path) if end_text else (high if step_text else start)
        if start > end:
            hint = (
                " (Sunday is 0 at the start of a range or 7 at its end)"
                if name == "day_of_week"
                else ""
            )
            raise ValidationFailed(
                path, f"range '{item}' is reversed; write the smaller end first{hint}"
            )
        step = 1
        if step_text is not None:
            step = int(step_text)
            if step == 0:
                raise ValidationFailed(path, f"step 0 in '{item}' never advances; use 1 or more")
            if step > max_step:
                raise ValidationFailed(
                    path, f"step {step} in '{item}' is larger than the range {low}-{high}"
                )
        values.update(range(start, end + 1, step))
    if name == "day_of_week" and 7 in values:
        values.discard(7)
        values.add(0)
    return frozenset(values)


def _value(text: str, name: str, path: str) -> int:
    """Convert a number or a three-letter name to its value, checking the field's bounds."""
    low, high, _, names = _BOUNDS[name]
    if text.isdigit():
        # Long digit strings are out of range anyway; avoid building huge ints from them.
        number = int(text) if len(text) <= 4 else high + 1
        if not low <= number <= high:
            raise ValidationFailed(path, f"'{text}' is out of range {low}-{high}")
        return number
    lowered = text.lower()
    if names and lowered in names:
        return names.index(lowered) + (1 if name == "month" else 0)
    if names:
        raise ValidationFailed(
            path, f"'{text}' is not a number {low}-{high} or a name ({names[0]}..{names[-1]})"
        )
    raise ValidationFailed(path, f"'{text}' is not a number {low}-{high}")


def _reject_dead(spec: CronSpec, field: str) -> None:
    """Reject day/month combinations that never exist (``0 0 30 2 *``) when DOM must match."""
    if spec.dom_restricted and spec.dow_restricted:
        return  # OR rule: the day-of-week alternative always fires
    if any(day <= _MAX_DAYS[month - 1] for month in spec.months for day in spec.days_of_month):
        return
    months = [_MONTH_TITLES[m - 1] for m in sorted(spec.months)]
    days = [str(d) for d in sorted(spec.days_of_month)]
    verb = "has" if len(months) == 1 else "have"
    raise ValidationFailed(
        f"{field}.day_of_month",
        f"{_join(months, 'and')} never {verb} {_join(days, 'or')} days, so this never fires",
    )


def _join(words: list[str], conjunction: str) -> str:
    """English list: 'a', 'a or b', 'a, b or c'."""
    if len(words) == 1:
        return words[0]
    return f"{', '.join(words[:-1])} {conjunction} {words[-1]}"
