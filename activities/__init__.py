"""Temporal activities: everything with I/O (rule files, channels, notifications, hand-off)."""
