"""The daemon's HTTP API: FastAPI routes over a Backend, mirroring Cockpit-NG's jobs API."""
