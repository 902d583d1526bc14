"""Workers (`/api/workers`), the audit log (`/api/audit`), capabilities and the owner's health
(`/api/health`)."""

from __future__ import annotations

from core.backend.protocol import Capabilities
from core.backend.views import AuditView, OwnerHealthView, WorkerView
from core.errors import BackendUnavailable, ValidationFailed
from core.remote.calls import RemoteCalls, many, one, segment
from core.remote.transport import NO_RETRY, RetryPolicy

WORKERS = "/api/workers"


def parse_capabilities(raw: bytes) -> Capabilities:
    """The daemon's capabilities; flags this client does not know are ignored (newer daemon)."""
    import json

    data = json.loads(raw)
    known = {key: value for key, value in data.items() if key in Capabilities.model_fields}
    return Capabilities.model_validate(known)


class SystemCalls(RemoteCalls):
    """The Backend's worker and audit methods."""

    async def fetch_capabilities(self, *, retry: RetryPolicy | None = None) -> Capabilities:
        """What the daemon's backend can do, as it says (`GET /api/capabilities`)."""
        return parse_capabilities(await self._get("/api/capabilities", retry=retry))

    async def list_workers(self) -> list[WorkerView]:
        """The daemon's executors."""
        return many(WorkerView, await self._get(WORKERS))

    async def resize_worker(self, name: str, slots: int) -> WorkerView:
        """Change the pool's number of slots."""
        # Checked here as the local backend does (the API's own 422 words it differently).
        if isinstance(slots, bool) or not isinstance(slots, int) or not 1 <= slots <= 1024:
            raise ValidationFailed("slots", f"must be a whole number from 1 to 1024, not {slots!r}")
        return await self._steer(name, "pool", {"slots": slots})

    async def pause_worker(self, name: str) -> WorkerView:
        """Claim nothing new until resumed; running runs continue."""
        return await self._steer(name, "pause")

    async def resume_worker(self, name: str) -> WorkerView:
        """Claim again after a pause or a drain."""
        return await self._steer(name, "resume")

    async def drain_worker(self, name: str) -> WorkerView:
        """Finish what runs, take nothing new."""
        return await self._steer(name, "drain")

    async def _steer(self, name: str, verb: str, body: dict[str, int] | None = None) -> WorkerView:
        # The API answers 409 for both Conflict and Unsupported; steering a worker raises
        # only Unsupported (a worker the daemon does not run), so 409 here means that.
        raw = await self._write(
            "POST", f"{WORKERS}/{segment(name)}/{verb}", body, unsupported_409=True
        )
        return one(WorkerView, raw)

    async def audit_log(self, *, limit: int = 100) -> list[AuditView]:
        """The newest audit records."""
        return many(AuditView, await self._get("/api/audit", {"limit": limit}))

    async def owner_health(self) -> OwnerHealthView:
        """The owner of the daemon's database, as `GET /api/health` reports it (at once: a
        daemon that does not answer is unreachable, not late)."""
        import json

        data = json.loads(await self._get("/api/health", retry=NO_RETRY))
        owner = data.get("owner") if isinstance(data, dict) else None
        if owner is None:
            raise BackendUnavailable(
                f"the daemon at {self._http.address} does not report who owns its database"
            )
        return OwnerHealthView.model_validate(owner)
