"""Files that hold transcripts are private: stores, backups and exports are created ``0600``
in directories created ``0700`` (run logs are too). An existing file or directory keeps the
mode its owner gave it."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import IO

FILE_MODE = 0o600
DIR_MODE = 0o700


def private_dir(path: Path) -> None:
    """Create ``path`` and every missing parent ``0700`` (whatever the umask)."""
    missing = []
    current = path
    while not current.exists():
        missing.append(current)
        if current.parent == current:
            break
        current = current.parent
    for directory in reversed(missing):
        with contextlib.suppress(FileExistsError):
            directory.mkdir(mode=DIR_MODE)
            os.chmod(directory, DIR_MODE)  # mkdir's mode is filtered by the umask


def private_file(path: Path) -> bool:
    """Create the empty file ``path`` ``0600`` (its directory ``0700``) unless it exists;
    ``True`` when it was created."""
    private_dir(path.parent)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    except FileExistsError:
        return False
    os.fchmod(fd, FILE_MODE)
    os.close(fd)
    return True


def open_private(path: Path, *, exclusive: bool = False) -> IO[str]:
    """Open ``path`` for writing UTF-8 text, created ``0600`` (truncated if it exists, unless
    ``exclusive``, which refuses an existing file)."""
    private_dir(path.parent)
    flags = os.O_WRONLY | os.O_CREAT | (os.O_EXCL if exclusive else os.O_TRUNC)
    fd = os.open(path, flags, FILE_MODE)
    os.fchmod(fd, FILE_MODE)
    return os.fdopen(fd, "w", encoding="utf-8")
