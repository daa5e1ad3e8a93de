"""Reference cloud providers (``kframe.cloud``)."""
