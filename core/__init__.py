"""jobdeck core: everything headless (domain, storage, scheduling, backends); no UI imports."""
