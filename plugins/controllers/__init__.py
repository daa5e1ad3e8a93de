"""The reference controllers, one package per controller, each registered by its own entry point."""
