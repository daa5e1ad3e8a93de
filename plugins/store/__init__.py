"""Reference Store backends."""
