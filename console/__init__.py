"""jobdeck console: the user interfaces (Textual app and CLI) over the core backend seam."""
