"""The kernel every layer shares: settings, value types, calendar, logs, redaction, the data folder's layout.

Imports nothing of the project."""
