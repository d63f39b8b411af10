"""Turning computed months and years into texts, charts and workbooks (no database)."""
