"""The in-tree scheduler plugins."""
