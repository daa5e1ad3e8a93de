"""Reference CLI commands."""
