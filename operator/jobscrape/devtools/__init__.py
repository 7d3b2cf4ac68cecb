"""Tools for tests and the demo: the local board server."""
