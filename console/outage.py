"""What happened while the console could not reach its backend, in one line."""

from __future__ import annotations

from collections import Counter
from datetime import datetime

from core.backend.protocol import Backend
from core.backend.views import TERMINAL_STATUSES, ChangeView

#: Runs looked up one by one after an outage; more than this are summarised as a count.
MAX_RUNS_LOOKED_UP = 100


async def outage_summary(
    backend: Backend, changes: tuple[ChangeView, ...], since: datetime | None
) -> str:
    """E.g. "3 runs completed, 1 failed; 2 occurrences missed" (empty when nothing ended)."""
    parts: list[str] = []
    run_ids = list(dict.fromkeys(c.ref_id for c in changes if c.kind == "run" and c.ref_id))
    outcomes: Counter[str] = Counter()
    for run_id in run_ids[:MAX_RUNS_LOOKED_UP]:
        try:
            run = await backend.get_run(run_id)
        except Exception:  # deleted meanwhile, or the backend dropped again: skip it
            continue
        if run.status in TERMINAL_STATUSES:
            outcomes[run.status] += 1
    if outcomes:
        ended = [f"{n} {status.replace('_', ' ')}" for status, n in outcomes.most_common()]
        parts.append("runs: " + ", ".join(ended))
    if len(run_ids) > MAX_RUNS_LOOKED_UP:
        parts.append(f"{len(run_ids)} runs changed in all")
    ledger = sum(1 for c in changes if c.kind == "occurrence")
    if ledger and since is not None:
        try:
            recent = await backend.list_occurrences(limit=min(ledger, 1000))
        except Exception:
            recent = []
        kinds = Counter(o.outcome for o in recent if o.recorded_at >= since and o.outcome != "ran")
        parts.extend(f"{n} occurrence(s) {outcome}" for outcome, n in kinds.most_common())
    return "; ".join(parts)
