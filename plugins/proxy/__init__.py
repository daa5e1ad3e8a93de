"""Reference proxy backends (:mod:`kframe.proxy`)."""
