"""A throwaway virtual environment with plugins really installed, for entry-point tests.

``venv_with_plugins(root, sources)`` creates a venv under ``root`` that sees this interpreter's
packages (massgen-plugins, the SDKs, pytest) through a ``.pth`` file, then ``pip install``s each
source folder into it, offline and without build isolation -- so a plugin is discovered through
its real entry point, exactly as after ``pip install massgen-plugins-yours``. Returns the venv's
python, to run ``massgen-plugins`` or a script with. ``plugin_source`` writes the folder of a
one-module plugin distribution to install that way.
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


def plugin_source(root: Path, *, dist: str, package: str, entry_point: str, code: str) -> Path:
    """Write ``root/dist``: a one-module plugin distribution (hatchling) whose module ``package``
    holds ``code`` and is registered as entry point ``entry_point`` in the ``massgen_plugins``
    group; return the folder, ready for :func:`venv_with_plugins`."""
    folder = root / dist
    (folder / package).mkdir(parents=True)
    (folder / package / "__init__.py").write_text(code)
    (folder / "pyproject.toml").write_text(
        '[build-system]\nrequires = ["hatchling"]\nbuild-backend = "hatchling.build"\n\n'
        f'[project]\nname = "{dist}"\nversion = "0.0.1"\n\n'
        f'[project.entry-points.massgen_plugins]\n{entry_point} = "{package}"\n\n'
        f'[tool.hatch.build.targets.wheel]\npackages = ["{package}"]\n'
    )
    return folder
