"""The workers screen: executor pools with their load and heartbeat, resize, pause and drain."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import datetime, tzinfo

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.timer import Timer
from textual.widgets import DataTable, Static

from console.messages import OpenRun
from console.screens.base import JobdeckScreen
from console.screens.confirm import ConfirmModal
from console.screens.slots_prompt import SlotsPromptModal
from console.widgets import KeyedTable, SessionInfo, cells
from core.backend.protocol import Backend
from core.backend.views import ActiveRunView, WorkerView
from core.errors import JobdeckError
from core.jobs.durations import format_duration

#: A pool heartbeats every 5 s: three missed beats look late, six look lost.
LATE_AFTER_SECONDS = 15.0
LOST_AFTER_SECONDS = 30.0
#: Heartbeats write no change events, so the table re-reads this often while on view.
REFETCH_SECONDS = 5.0

WORKER_COLUMNS = (
    ("name", "Name"),
    ("status", "Status"),
    ("slots", "Slots"),
    ("heartbeat", "Heartbeat"),
    ("processed", "Processed"),
    ("failed", "Failed"),
    ("kind", "Kind"),
    ("host", "Host/pid"),
)
QUEUES_COLUMN = ("queues", "Queues")
RUN_COLUMNS = (
    ("run", "Run"),
    ("job", "Job"),
    ("attempt", "Attempt"),
    ("started", "Started"),
    ("elapsed", "Elapsed"),
)


def age_text(since: datetime | None, now: datetime, theme: Mapping[str, str]) -> Text:
    """How long ago a heartbeat was, in the warning colour when late and error when lost."""
    if since is None:
        return cells.muted(cells.MISSING)
    age = (now - since).total_seconds()
    text = cells.plain("now" if age < 1 else f"{format_duration(int(age))} ago", justify="right")
    if age > LOST_AFTER_SECONDS:
        text.stylize(f"bold {cells.theme_style(theme, 'text-error')}".strip())
    elif age > LATE_AFTER_SECONDS:
        text.stylize(cells.theme_style(theme, "text-warning"))
    return text


def status_text(worker: WorkerView, theme: Mapping[str, str]) -> Text:
    """The worker's status with its glyph, in its colour; a pause or drain shows even while
    the status lags."""
    looks = cells.WORKER_LOOKS
    text = looks.text(worker.status, theme) if worker.status in looks else None
    text = text or cells.muted(worker.status)
    for flag, is_set in (("paused", worker.paused), ("draining", worker.draining)):
        if is_set and flag != worker.status:
            text.append(" · ").append_text(looks.text(flag, theme))
    return text


def worker_cells(
    worker: WorkerView, now: datetime, theme: Mapping[str, str], with_queues: bool
) -> Sequence[Text]:
    """One row of the workers table."""
    where = worker.host or cells.MISSING
    slots = cells.plain(f"{worker.active}/{worker.slots}", justify="right")
    if worker.active > worker.slots:  # shrunk below its load: the extra runs finish first
        slots.stylize(cells.theme_style(theme, "text-warning"))
    row = [
        cells.plain(worker.name),
        status_text(worker, theme),
        slots,
        age_text(worker.heartbeat_at, now, theme),
        cells.plain(worker.processed, justify="right"),
        cells.plain(worker.failed, justify="right"),
        cells.plain(worker.kind),
        cells.muted(f"{where}:{worker.pid}" if worker.pid else where),
    ]
    if with_queues:
        row.append(cells.plain(", ".join(worker.queues) or cells.MISSING))
    return row


def active_run_cells(run: ActiveRunView, now: datetime, zone: tzinfo) -> Sequence[Text]:
    """One row of the active runs table; the elapsed time follows the session clock."""
    if run.started_at is None:
        started, elapsed = cells.muted(cells.MISSING), cells.muted(cells.MISSING)
    else:
        started = cells.plain(run.started_at.astimezone(zone).strftime("%H:%M:%S"))
        seconds = max(0, int((now - run.started_at).total_seconds()))
        elapsed = cells.plain(format_duration(seconds), justify="right")
    return (
        cells.plain(f"#{run.run_id}", justify="right"),
        cells.plain(run.job_name),
        cells.plain(run.attempt, justify="right"),
        started,
        elapsed,
    )


def control_hint(writable: bool, worker_control: bool, backend_name: str) -> str:
    """Why the worker actions are hidden or greyed here ("" when they are available)."""
    if not writable:
        return "Read-only session: resize, pause, resume and drain are hidden."
    if not worker_control:
        return (
            f"{backend_name} cannot steer workers: only the process that owns the database "
            "controls its pool (attach to it with jobdeck --backend URL). Actions are greyed."
        )
    return ""


class WorkersScreen(JobdeckScreen):
    """Workers with slots, load and heartbeat; the highlighted one's active runs beneath.

    Elapsed times and heartbeat ages tick every second from the data already fetched; the
    list itself is re-read on worker or run changes and every few seconds (heartbeats write
    no change events). Steering needs ``capabilities.worker_control``; without it the keys
    are greyed and a line says why.
    """

    CSS_PATH = "workers.tcss"
    WATCHES = frozenset({"worker", "run"})
    LOAD_GROUP = "workers"
    WRITE_ACTIONS = frozenset({"grow", "shrink", "set_slots", "pause", "resume", "drain"})
    BINDINGS = [
        Binding("plus", "grow", "Grow", id="workers.grow"),
        Binding("minus", "shrink", "Shrink", id="workers.shrink"),
        Binding("s", "set_slots", "Slots", id="workers.slots"),
        Binding("p", "pause", "Pause", id="workers.pause"),
        Binding("r", "resume", "Resume", id="workers.resume"),
        Binding("d", "drain", "Drain", id="workers.drain"),
    ]

    def __init__(self, backend: Backend, session: SessionInfo) -> None:
        super().__init__(backend, session)
        self.workers_by_name: dict[str, WorkerView] = {}
        self._live_timers: list[Timer] = []
        self._steering = asyncio.Lock()

    def compose_body(self) -> ComposeResult:
        yield KeyedTable(id="workers-table")
        yield KeyedTable(id="active-runs")
        yield Static("", id="workers-hint", markup=False)

    def on_mount(self) -> None:
        workers = self.query_one("#workers-table", KeyedTable)
        for key, label in WORKER_COLUMNS:
            workers.add_column(label, key=key)
        workers.border_title = "Workers"
        workers.loading = True
        runs = self.query_one("#active-runs", KeyedTable)
        for key, label in RUN_COLUMNS:
            runs.add_column(label, key=key)
        runs.border_title = "Active runs"
        self._show_hint()

    def _show_hint(self) -> None:
        # Capabilities can change while the screen lives: an embedded owner lends its pool
        # (worker control) once it has started, after the console is up.
        capabilities = self.backend.capabilities
        hint = control_hint(self.session.writable, capabilities.worker_control, capabilities.name)
        line = self.query_one("#workers-hint", Static)
        line.update(hint)
        line.display = bool(hint)

    # -- live data ------------------------------------------------------------------------

    def on_screen_resume(self) -> None:
        # The base class reloads on resume too (Textual calls both handlers).
        if not self._live_timers:
            self._live_timers = [
                self.set_interval(1.0, self.tick, name="workers-tick"),
                self.set_interval(REFETCH_SECONDS, self.reload, name="workers-refetch"),
            ]
        for timer in self._live_timers:
            timer.resume()

    def on_screen_suspend(self) -> None:
        # Nothing ticks or re-reads while another screen is on view.
        for timer in self._live_timers:
            timer.pause()

    def reload(self) -> None:
        """Fetch the workers again."""
        self.load_workers()

    @work(exclusive=True, group="workers")
    async def load_workers(self) -> None:
        """Fetch every worker with its active runs and show them."""
        table = self.query_one("#workers-table", KeyedTable)
        try:
            workers = await self.backend.list_workers()
        except JobdeckError as exc:
            self.notify(str(exc), title="Workers not loaded", severity="error")
            return
        finally:
            table.loading = False
        self.workers_by_name = {worker.name: worker for worker in workers}
        self.tick()
        self._show_hint()
        self.refresh_bindings()  # what applies depends on the highlighted worker's state

    def tick(self) -> None:
        """Show the fetched workers against the clock: heartbeat ages and elapsed times."""
        now = self.session.clock.now()
        theme = self.app.get_css_variables()
        table = self.query_one("#workers-table", KeyedTable)
        with_queues = any(worker.queues for worker in self.workers_by_name.values())
        self._show_queues_column(table, with_queues)
        table.apply_rows(
            {
                name: worker_cells(worker, now, theme, with_queues)
                for name, worker in self.workers_by_name.items()
            }
        )
        table.set_titles(f"Workers ({len(self.workers_by_name)})")
        self._show_active_runs(now)

    def _show_queues_column(self, table: KeyedTable, wanted: bool) -> None:
        # Celery workers listen on queues; a local pool has none, so the column stays away.
        key, label = QUEUES_COLUMN
        shown = key in {column.value for column in table.columns}
        if wanted and not shown:
            table.add_column(label, key=key, default=cells.plain(""))
        elif shown and not wanted:
            table.remove_column(key)

    def _show_active_runs(self, now: datetime) -> None:
        table = self.query_one("#active-runs", KeyedTable)
        worker = self.highlighted_worker
        runs = worker.active_runs if worker else ()
        table.apply_rows(
            {str(run.run_id): active_run_cells(run, now, self.session.zone) for run in runs}
        )
        table.set_titles(f"Active runs on {worker.name} ({len(runs)})" if worker else "Active runs")

    @property
    def highlighted_worker(self) -> WorkerView | None:
        """The worker under the cursor of the workers table."""
        key = self.query_one("#workers-table", KeyedTable).highlighted_key
        return self.workers_by_name.get(key) if key is not None else None

    @on(DataTable.RowHighlighted, "#workers-table")
    def _worker_highlighted(self) -> None:
        self._show_active_runs(self.session.clock.now())
        self.refresh_bindings()

    @on(DataTable.RowSelected, "#workers-table")
    def _worker_selected(self) -> None:
        runs = self.query_one("#active-runs", KeyedTable)
        if runs.row_count:
            runs.focus()

    @on(DataTable.RowSelected, "#active-runs")
    def _active_run_selected(self, event: DataTable.RowSelected) -> None:
        if event.row_key.value is not None:
            self.post_message(OpenRun(int(event.row_key.value)))

    # -- steering -------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if not super().check_action(action, parameters):
            return False
        if action not in self.WRITE_ACTIONS:
            return True
        worker = self.highlighted_worker
        if worker is None or not self.backend.capabilities.worker_control:
            return None
        applies = {
            "shrink": worker.slots > 1,
            "pause": not worker.paused,
            "resume": worker.paused or worker.draining,
            "drain": not worker.draining,
        }
        return applies.get(action, True) or None

    def action_grow(self) -> None:
        """Give the highlighted worker one more slot."""
        self.resize_by(1)

    def action_shrink(self) -> None:
        """Take one slot from the highlighted worker (running runs finish)."""
        self.resize_by(-1)

    @work(group="worker-control")
    async def resize_by(self, delta: int) -> None:
        """Resize by ``delta`` slots from the size the worker has when its turn comes."""
        if (worker := self.highlighted_worker) is None:
            return

        def resize(name: str) -> Awaitable[WorkerView]:
            slots = self.workers_by_name.get(name, worker).slots
            return self.backend.resize_worker(name, slots + delta)

        await self._steer(worker.name, "resize", resize)

    @work(group="worker-control")
    async def action_set_slots(self) -> None:
        """Ask for the highlighted worker's number of slots and apply it."""
        if (worker := self.highlighted_worker) is None:
            return
        name = worker.name
        resized = await self.app.push_screen_wait(
            SlotsPromptModal(worker, lambda slots: self.backend.resize_worker(name, slots))
        )
        if resized is not None:
            self._steered(resized, "resize")

    @work(group="worker-control")
    async def action_pause(self) -> None:
        """Take nothing new on the highlighted worker; its running runs continue."""
        if (worker := self.highlighted_worker) is not None:
            await self._steer(worker.name, "pause", self.backend.pause_worker)

    @work(group="worker-control")
    async def action_resume(self) -> None:
        """Let the highlighted worker take runs again after a pause or drain."""
        if (worker := self.highlighted_worker) is not None:
            await self._steer(worker.name, "resume", self.backend.resume_worker)

    @work(group="worker-control")
    async def action_drain(self) -> None:
        """Ask, then let the highlighted worker finish its runs and take nothing new."""
        if (worker := self.highlighted_worker) is None:
            return
        question = ConfirmModal(
            f"Drain {worker.name}?",
            [
                "Finish running runs, take nothing new.",
                f"{worker.active} run(s) running now; resume (r) takes runs again.",
            ],
            confirm_label="Drain",
        )
        if await self.app.push_screen_wait(question):
            await self._steer(worker.name, "drain", self.backend.drain_worker)

    async def _steer(
        self, name: str, verb: str, steer: Callable[[str], Awaitable[WorkerView]]
    ) -> None:
        # One steer at a time, so `+ +` grows by two from the size the first one left.
        async with self._steering:
            try:
                steered = await steer(name)
            except JobdeckError as exc:
                self.notify(str(exc), title=f"Could not {verb} {name}", severity="error")
                return
        self._steered(steered, verb)

    def _steered(self, worker: WorkerView, verb: str) -> None:
        outcomes = {
            "resize": f"now {worker.slots} slot(s), {worker.active} busy",
            "pause": "paused: running runs continue, nothing new starts",
            "resume": "taking runs again",
            "drain": f"draining: finishing {worker.active} run(s), taking nothing new",
        }
        self.notify(outcomes[verb], title=worker.name)
        self.workers_by_name[worker.name] = worker
        self.tick()
        self.refresh_bindings()
