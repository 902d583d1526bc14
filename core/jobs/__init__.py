"""Templates, schedules and runs: their rules, services and timing."""
