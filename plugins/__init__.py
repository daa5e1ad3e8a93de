"""Reference implementations of kframe interfaces, installed as ``kframe_plugins``."""
