"""One router per resource: templates, schedules, runs, workers, events, tokens, system."""
