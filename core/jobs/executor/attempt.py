"""One attempt of a claimed run: spawn it, watch it, stop it when asked, and say how it ended."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from core.clock import Clock
from core.jobs.executor.claims import ClaimedRun
from core.jobs.executor.config import ExecutorConfig
from core.jobs.executor.environment import SetupFailed, config_problem, iso_utc, job_environment
from core.jobs.executor.forkclient import ForkServer, ForkServerGone
from core.jobs.executor.logsink import LogSink
from core.jobs.executor.outcome import AttemptResult, Stop, ended, mask, stopped
from core.jobs.executor.processes import ExecProcess, ForkProcess, Pipes, spawn_exec
from core.jobs.executor.procs import SpawnFailed, kill_marked, signal_group
from core.jobs.executor.store import Spawned
from core.jobs.executor.writer import BatchWriter
from core.jobs.types import ExecPlan, lookup_job_type
from core.settings.secrets import SecretBox


class Attempt:
    """Runs one attempt; ``request_stop`` ends it early (timeout, cancel, owner shutdown)."""

    def __init__(
        self,
        run: ClaimedRun,
        *,
        config: ExecutorConfig,
        clock: Clock,
        fork: ForkServer,
        writer: BatchWriter,
        secrets: SecretBox | None,
        base_env: dict[str, str],
        home: Path,
        log_budget: int,
    ) -> None:
        self.run = run
        self.config = config
        self.clock = clock
        self.fork = fork
        self.writer = writer
        self.secrets = secrets
        self.base_env = base_env
        self.home = home
        self.log_budget = log_budget
        self.pid: int | None = None
        self.secret_values: tuple[str, ...] = ()
        self.sink = self._new_sink(())
        self._stop: Stop | None = None
        self._woken: asyncio.Future[None] | None = None
        self._sent: int | None = None
        self._reports = False

    def _new_sink(self, secrets: tuple[str, ...]) -> LogSink:
        sink = LogSink(
            self.run.run_id,
            self.run.attempt,
            next_seq=self.run.next_seq,
            budget=self.log_budget,
            secrets=secrets,
            now=self.clock.now,
        )
        self.writer.add_log(self.run.run_id, sink, self.run.log_size)
        return sink

    def request_stop(self, kind: str, reason: str) -> None:
        """End the attempt: SIGTERM to its group now, SIGKILL after the grace. First ask wins."""
        if self._stop is None:
            self._stop = Stop(kind, reason)
            self._wake_watch(None)

    def _wake_watch(self, _: object) -> None:
        if self._woken is not None and not self._woken.done():
            self._woken.set_result(None)

    def mask(self, text: str | None) -> str | None:
        """``text`` with the run's secret values hidden."""
        return mask(text, self.secret_values)

    def _time_limit(self) -> tuple[float | None, str, str]:
        """Seconds this attempt may run, whether the timeout or the deadline sets it, and why."""
        limit, kind, why = None, "timeout", ""
        timeout = self.run.snapshot.get("timeout_seconds")
        if timeout:
            limit, why = float(timeout), f"timeout of {float(timeout):g} s"
        if self.run.deadline_at is not None:
            left = max(0.0, (self.run.deadline_at - self.clock.now()).total_seconds())
            if limit is None or left < limit:
                total = self.run.snapshot.get("deadline_seconds")
                span = f"{float(total):g} s" if total else f"{left:.1f} s"
                limit, kind, why = left, "deadline", f"overall deadline of {span}"
        return limit, kind, why

    def _prepare(self) -> tuple[ExecPlan | None, dict[str, str], dict[str, Any]]:
        job_type = lookup_job_type(self.run.job_type)
        if job_type is None:
            raise SetupFailed(f"job type {self.run.job_type!r} is not installed")
        if not job_type.runnable:
            raise SetupFailed(f"job type {self.run.job_type!r} does not say how to run")
        plan = None
        if job_type.plan is not None:
            try:
                config = job_type.config_model.model_validate(self.run.snapshot.get("config", {}))
            except ValidationError as exc:
                raise SetupFailed(f"invalid config: {config_problem(exc)}") from None
            plan = job_type.plan(config)
        environment = job_environment(
            self.base_env,
            run_id=self.run.run_id,
            attempt=self.run.attempt,
            scheduled_for=self.run.scheduled_for,
            parameters=self.run.parameters,
            extra=plan.env if plan else {},
            secrets=self.secrets,
        )
        self.secret_values = environment.secrets
        if environment.secrets:
            self.sink = self._new_sink(environment.secrets)
        return plan, environment.env, environment.parameters

    async def execute(self) -> AttemptResult:
        """Run the attempt to its end."""
        try:
            plan, env, parameters = self._prepare()
        except SetupFailed as exc:
            return AttemptResult("failed", error=str(exc), note=f"[jobdeck] {exc}", permanent=True)
        if self._stop is not None:
            return stopped(self._stop, None, None, self.config.kill_grace_seconds)
        # Runner-based jobs report their result on a pipe of their own; argv jobs do not.
        self._reports = plan is None
        pipes = Pipes(self.sink, self.writer.poke, result=self._reports)
        try:
            if plan is not None:
                process: ExecProcess | ForkProcess = spawn_exec(plan, env, *pipes.write_fds)
            else:
                request = self._fork_request(env, parameters)
                process = ForkProcess(await self.fork.spawn(request, pipes.write_fds))
        except SpawnFailed as exc:
            pipes.close()
            return AttemptResult("failed", exc.exit_code, error=str(exc), note=f"[jobdeck] {exc}")
        except ForkServerGone as exc:
            pipes.close()
            if exc.sent:
                # It may have started the job before it died: never run it twice.
                await kill_marked(self.run.run_id, self.config.kill_grace_seconds)
                error = f"the fork server died while starting the job ({exc})"
                return AttemptResult("lost", error=error, note=f"[jobdeck] lost: {error}")
            error = f"the fork server is unavailable: {exc}"
            return AttemptResult("failed", error=error, note=f"[jobdeck] {error}")
        finally:
            pipes.close_write_ends()
        self.pid = process.pid
        self.writer.spawned(Spawned(self.run.run_id, self.run.attempt, process.pid))
        return await self._watch(process, pipes)

    def _fork_request(self, env: dict[str, str], parameters: dict[str, Any]) -> dict[str, Any]:
        run = self.run
        return {
            "run_id": run.run_id,
            "attempt": run.attempt,
            "job_type": run.job_type,
            "config": run.snapshot.get("config", {}),
            "parameters": parameters,
            "env": env,
            "scheduled_for": iso_utc(run.scheduled_for or run.started_at),
            "job_name": run.job_name,
            "template_name": run.template_name,
            "home": str(self.home),
        }

    async def _watch(self, process: ExecProcess | ForkProcess, pipes: Pipes) -> AttemptResult:
        loop = asyncio.get_running_loop()
        limit, kind, why = self._time_limit()
        timer = None
        if limit is not None:
            timer = loop.call_later(limit, self.request_stop, kind, why)
        # One future for "the process ended or someone asked it to stop": no extra tasks.
        self._woken = loop.create_future()
        if self._stop is not None:
            self._woken.set_result(None)
        process.exited.add_done_callback(self._wake_watch)
        try:
            await self._woken
            if not process.exited.done():
                await self._terminate(process)
            if self._sent is not None:
                # Leftovers of a stopped job get the rest of the grace to close their output.
                await pipes.wait_eof(min(self.config.kill_grace_seconds, 1.0))
            try:
                returncode = process.finish()
            except ForkServerGone as exc:
                signal_group(process.pid, signal.SIGKILL)
                error = f"the fork server died while the job ran ({exc}); its group was killed"
                return AttemptResult("lost", error=error, note=f"[jobdeck] lost: {error}")
            got_eof = await pipes.wait_eof(self.config.eof_grace_seconds)
        finally:
            if timer is not None:
                timer.cancel()
            pipes.close()
        if self._stop is not None and self._sent is not None:
            grace = self.config.kill_grace_seconds
            result = stopped(self._stop, returncode, self._sent, grace)
        else:
            result = ended(returncode, bytes(pipes.result), self._reports, self.secret_values)
        if not got_eof:
            held = "[jobdeck] stopped reading output still held open by a process outside the job"
            note = f"{result.note}\n{held}" if result.note else held
            result = AttemptResult(**{**result.__dict__, "note": note})
        return result

    async def _terminate(self, process: ExecProcess | ForkProcess) -> None:
        process.signal(signal.SIGTERM)
        self._sent = signal.SIGTERM
        try:
            await asyncio.wait_for(asyncio.shield(process.exited), self.config.kill_grace_seconds)
            return
        except TimeoutError:
            pass
        while not process.exited.done():
            process.signal(signal.SIGKILL)
            self._sent = signal.SIGKILL
            try:
                await asyncio.wait_for(asyncio.shield(process.exited), 1.0)
            except TimeoutError:
                continue
