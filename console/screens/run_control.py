"""Cancel, retry and delete of one run: the flows the runs and run-detail screens share."""

from __future__ import annotations

from collections.abc import Callable

from textual import work

from console.messages import OpenRun
from console.screens.base import JobdeckScreen
from console.screens.confirm import ConfirmModal
from console.widgets.run_cells import can_cancel, can_delete, can_retry
from core.backend.views import RunView
from core.errors import JobdeckError

#: Action name -> (capability flag, whether the run's state allows it).
_RUN_ACTIONS = {
    "cancel_run": ("run_cancel", can_cancel),
    "retry_run": ("run_retry", can_retry),
    "delete_run": ("run_delete", can_delete),
}


class RunControlScreen(JobdeckScreen):
    """A screen with a current run that can be cancelled (confirmed), retried or deleted.

    Subclasses say which run with ``target_run``; actions the backend cannot do are hidden,
    actions the run's state does not allow are greyed out.
    """

    WRITE_ACTIONS = frozenset({"cancel_run", "retry_run", "delete_run"})
    _allowed: tuple[bool, ...] = ()
    _bindings_due = False

    def target_run(self) -> RunView | None:
        """The run the actions apply to (the highlighted or shown one)."""
        return None

    def update_bindings(self) -> None:
        """Grey out or show the run actions again, when what the run allows has changed.

        At most once per refresh and only on a change: each refresh rebuilds the footer, and
        a table fires a highlight for every row it adds or removes.
        """
        if not self._bindings_due:
            self._bindings_due = True
            self.call_after_refresh(self._update_bindings_now)

    def _update_bindings_now(self) -> None:
        self._bindings_due = False
        run = self.target_run()
        allowed = (run is not None, can_cancel(run), can_retry(run), can_delete(run))
        if allowed != self._allowed:
            self._allowed = allowed
            self.refresh_bindings()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        allowed = super().check_action(action, parameters)
        if not allowed or action not in _RUN_ACTIONS:
            return allowed
        capability, possible = _RUN_ACTIONS[action]
        if not getattr(self.backend.capabilities, capability):
            return False
        return True if possible(self.target_run()) else None

    def action_cancel_run(self) -> None:
        """Ask, then cancel the run (a running one is stopped: SIGTERM, then SIGKILL)."""
        run = self.target_run()
        if not can_cancel(run):
            return
        assert run is not None
        where = f" on {run.worker}" if run.worker else ""
        question = ConfirmModal(
            f"Cancel run {run.id} of {run.job_name}?",
            [
                f"It is {run.status}{where}.",
                "A running job's process group gets SIGTERM, then SIGKILL after a grace period.",
            ],
            confirm_label="Cancel the run",
            cancel_label="Keep it running",
        )
        self.app.push_screen(question, self._when_confirmed(self.cancel_run, run))

    @work(group="run-control")
    async def cancel_run(self, run: RunView) -> None:
        """Cancel ``run`` and say what became of it."""
        try:
            after = await self.backend.cancel_run(run.id)
        except JobdeckError as exc:
            self.notify(str(exc), title=f"Run {run.id} not cancelled", severity="error")
            return
        if after.status == "cancelled":
            self.notify(f"{after.job_name} was cancelled", title=f"Run {run.id} cancelled")
        else:
            self.notify(f"{after.job_name} is being stopped", title=f"Run {run.id} cancelling")
        self.request_reload()

    def action_retry_run(self) -> None:
        """Queue a new run with the same parameters and open it."""
        run = self.target_run()
        if can_retry(run):
            assert run is not None
            self.retry_run(run)

    @work(group="run-control")
    async def retry_run(self, run: RunView) -> None:
        """Retry ``run``; the new run opens."""
        try:
            retry = await self.backend.retry_run(run.id)
        except JobdeckError as exc:
            self.notify(str(exc), title=f"Run {run.id} not retried", severity="error")
            return
        self.notify(f"run {retry.id} retries run {run.id}", title=f"{run.job_name} queued")
        self.post_message(OpenRun(retry.id))

    def action_delete_run(self) -> None:
        """Ask, then delete the ended run with its log."""
        run = self.target_run()
        if not can_delete(run):
            return
        assert run is not None
        question = ConfirmModal(
            f"Delete run {run.id} of {run.job_name}?",
            [f"It {run.status}; its log and attempts go with it. This cannot be undone."],
            confirm_label="Delete the run",
        )
        self.app.push_screen(question, self._when_confirmed(self.delete_run, run))

    @work(group="run-control")
    async def delete_run(self, run: RunView) -> None:
        """Delete ``run``."""
        try:
            await self.backend.delete_run(run.id)
        except JobdeckError as exc:
            self.notify(str(exc), title=f"Run {run.id} not deleted", severity="error")
            return
        self.notify(f"{run.job_name}, {run.status}", title=f"Run {run.id} deleted")
        self.run_deleted(run)

    @staticmethod
    def _when_confirmed(
        act: Callable[[RunView], object], run: RunView
    ) -> Callable[[bool | None], None]:
        def answered(yes: bool | None) -> None:
            if yes:
                act(run)

        return answered

    def run_deleted(self, run: RunView) -> None:
        """What the screen does once ``run`` is gone (default: reload)."""
        self.request_reload()
