"""Reference admission plugins, one package each (registered by their own entry points)."""
