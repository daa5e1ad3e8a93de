"""Reference container runtimes (CRI, :mod:`kframe.runtime`)."""
