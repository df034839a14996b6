"""Backup and restore of the SQLite store's file: the online backup API into a private file,
and a verified restore that keeps the replaced files aside."""

from __future__ import annotations

import contextlib
import os
import sqlite3
import time
from pathlib import Path

from ..errors import InputError
from .files import private_file
from .records import CorruptionError


def backup_file(conn: sqlite3.Connection, destination: str) -> str:
    """Copy the open store ``conn`` to ``destination`` (a new file, created ``0600``) with
    SQLite's online backup API, through a ``.partial`` file renamed when complete."""
    dest = Path(destination).expanduser()
    if dest.exists():
        raise InputError(f"backup destination {dest} already exists; choose a new file name")
    partial = dest.with_name(dest.name + ".partial")
    try:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(partial)
        private_file(partial)
    except OSError as exc:
        raise InputError(f"cannot write the backup to {dest}: {exc.strerror or exc}") from None
    target = sqlite3.connect(partial)
    try:
        conn.backup(target)
        target.execute("PRAGMA journal_mode = DELETE")
    finally:
        target.close()
    os.replace(partial, dest)
    return str(dest)


def restore_file(path: Path, source: str) -> str | None:
    """Replace the SQLite store at ``path`` with the backup ``source``.

    The backup is copied next to the store, migrated if it is older and fully checked; only then
    are the current files (damaged or not, with their ``-wal``/``-shm``) moved aside to
    ``<store>.before-restore-<time>`` and the copy renamed into place. Returns where the previous
    store was kept (``None`` if there was none). Stop other processes using the store first.
    """
    from .sqlite import SQLiteMemoryStore

    src = Path(source).expanduser()
    if not src.is_file():
        raise InputError(f"backup {src} does not exist or is not a file")
    staging = path.with_name(f"{path.name}.restoring-{os.getpid()}")
    for suffix in ("", "-wal", "-shm"):
        with contextlib.suppress(FileNotFoundError):
            os.unlink(f"{staging}{suffix}")
    private_file(staging)
    try:
        try:
            reader = sqlite3.connect(f"file:{src}?mode=ro", uri=True)
            writer = sqlite3.connect(staging)
            try:
                reader.backup(writer)
            finally:
                reader.close()
                writer.close()
        except sqlite3.DatabaseError as exc:
            raise InputError(f"{src} is not a readable memory store backup ({exc})") from None
        try:
            candidate = SQLiteMemoryStore(staging)
        except CorruptionError as exc:
            raise CorruptionError(f"backup {src} is damaged too: {exc}") from None
        try:
            report = candidate.check()
        finally:
            candidate.close()
        if not report.ok:
            raise CorruptionError(f"backup {src} fails its check: {'; '.join(report.problems[:5])}")
        aside = None
        if path.exists():
            aside = f"{path}.before-restore-{time.strftime('%Y%m%dT%H%M%S')}-{os.getpid()}"
            for suffix in ("", "-wal", "-shm"):
                if os.path.exists(f"{path}{suffix}"):
                    os.replace(f"{path}{suffix}", f"{aside}{suffix}")
        for suffix in ("-wal", "-shm"):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(f"{staging}{suffix}")
        os.replace(staging, path)
        return aside
    finally:
        for suffix in ("", "-wal", "-shm"):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(f"{staging}{suffix}")
