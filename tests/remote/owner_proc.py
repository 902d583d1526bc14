"""An owner that publishes its credential, as the daemon and the embedded TUI are to do.

Run as ``python -m tests.remote.owner_proc`` with JOBDECK_HOME set: it serves the API the way
an embedded TUI owner does (``serve_embedded``: the home's unix socket), takes the lease with
that address, publishes ``owner.token``, prints ``API listening on ADDRESS`` and runs until
SIGTERM, then withdraws the credential and stops.
"""

from __future__ import annotations

import asyncio
import signal

from core.api.serve import serve_embedded
from core.backend.factory import local_backend_on, open_database
from core.owner import Owner
from core.remote.credentials import OwnerCredential
from core.settings.config import load_settings


async def main() -> None:
    settings = load_settings()
    db = await asyncio.to_thread(open_database, settings)
    backend = local_backend_on(settings, db, source="tui")
    server = await serve_embedded(backend, settings)
    owner = Owner(settings, db, api_address=server.address)
    if not await owner.try_start():
        raise SystemExit("someone else owns the database")
    credential = await asyncio.to_thread(OwnerCredential.publish, settings, db, server.address)
    print(f"API listening on {server.address}", flush=True)
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    await stop.wait()
    await asyncio.to_thread(credential.withdraw)
    await owner.stop(1.0, "test owner stopping")
    await server.stop()
    await backend.close()


if __name__ == "__main__":
    asyncio.run(main())
