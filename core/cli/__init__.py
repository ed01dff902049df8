"""The headless commands (stats, convert, diff, report, record) and their text output."""
