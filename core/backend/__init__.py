"""The seam: the Backend protocol, its view models and errors, and its implementations."""
