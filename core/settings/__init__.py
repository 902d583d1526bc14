"""Configuration: the TOML file, JOBDECK_* variables, paths and backend profiles."""
