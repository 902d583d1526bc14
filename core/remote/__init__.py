"""The jobdeck remote backend: the Backend protocol over a jobdeck daemon's HTTP API.

``transport`` sends requests (retries, Idempotency-Key), ``errors`` maps answers to jobdeck
errors, ``feed`` buffers the `/api/events` stream for ``changes()``, the per-resource modules
(``templates``, ``schedules``, ``runs``, ``system``) implement the protocol's methods and
``backend`` puts them together. ``attach`` and ``credentials`` find the daemon to talk to and
the token to use. httpx is imported lazily: importing this package costs nothing.
"""
