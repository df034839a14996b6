"""One relational memory core for every SQL backend (SQLite built in, PostgreSQL as a plugin).

:class:`RelationalMemoryStore` holds the logic -- turn numbering, idempotent replay, conflict
detection, session reassembly, archive hits, limits, gc, checksums -- written once in SQL both
databases accept; a :class:`SqlDialect` says what differs (placeholder, a few phrases, the
full-text index). A new SQL backend subclasses both.
"""

from __future__ import annotations

from .dialect import ARCHIVE_COLUMNS, MEMORY_COLUMNS, SqlDialect, columns
from .hygiene import LEVEL_SQL, OPTIONAL_COLUMNS, TABLES, RelationalMemoryStore, row_problem

__all__ = ["ARCHIVE_COLUMNS", "LEVEL_SQL", "MEMORY_COLUMNS", "OPTIONAL_COLUMNS", "TABLES", "RelationalMemoryStore",
           "SqlDialect", "columns", "row_problem"]
