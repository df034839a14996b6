"""A throwaway virtual environment with plugins really installed, for entry-point tests.

``venv_with_plugins(root, sources)`` creates a venv under ``root`` that sees this interpreter's
packages (massgen-plugins, the SDKs, pytest) through a ``.pth`` file, then ``pip install``s each
source folder into it, offline and without build isolation -- so a plugin is discovered through
its real entry point, exactly as after ``pip install massgen-plugins-yours``. Returns the venv's
python, to run ``massgen-plugins`` or a script with.
"""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
import venv
from collections.abc import Sequence
from pathlib import Path


def venv_with_plugins(root: Path, sources: Sequence[str | os.PathLike[str]], *, timeout: float = 600) -> Path:
    """Create ``root/venv`` with ``sources`` installed (``--no-deps --no-index``); return its python."""
    env_dir = root / "venv"
    venv.EnvBuilder(with_pip=False).create(env_dir)
    python = env_dir / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    child_site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True, capture_output=True, text=True, timeout=timeout,
    ).stdout.strip()
    parent_site = sysconfig.get_paths()["purelib"]
    Path(child_site, "zz_parent_env.pth").write_text(f"import site; site.addsitedir({parent_site!r})\n")
    subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet", "--no-deps",
         "--no-build-isolation", "--no-index", *map(str, sources)],
        check=True, capture_output=True, text=True, timeout=timeout,
    )
    return python
