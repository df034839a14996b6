"""Replace a file's contents all at once: readers see the old file or the new one, never a part.

The new contents go to a temporary file created exclusively (``O_EXCL``, a random name) in the
target's directory, are flushed to disk, then renamed over the target. A crash at any moment
leaves the target as it was; a symlink planted where a temporary file would go is never
followed, and a symlink at the target itself is replaced, not written through. New files are
private (0600); an existing regular file keeps its permission bits.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from pathlib import Path


def atomic_write_text(path: str | os.PathLike[str], text: str, *, encoding: str = "utf-8") -> None:
    """Write ``text`` to ``path`` atomically (unique temp file in the same directory + ``os.replace``).

    Raises ``OSError`` when the directory is not writable; the target is untouched then.
    """
    target = Path(path)
    directory = target.parent if str(target.parent) else Path(".")
    mode = 0o600
    with contextlib.suppress(OSError):
        info = os.lstat(target)
        if stat.S_ISREG(info.st_mode):
            mode = stat.S_IMODE(info.st_mode)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "w", encoding=encoding) as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
