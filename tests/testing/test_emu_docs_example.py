"""The example in docs/testing-your-plugin.md runs, as a third-party project would run it:
a fresh directory, plain ``pytest``, fixtures coming only from the ``pytest11`` entry point."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

DOC = Path(__file__).resolve().parents[2] / "docs" / "testing-your-plugin.md"


def test_docs_example_passes_under_plain_pytest(tmp_path):
    blocks = re.findall(r"```python\n(# test_my_plugin\.py\n.*?)```", DOC.read_text(), re.S)
    assert len(blocks) == 1
    (tmp_path / "test_my_plugin.py").write_text(blocks[0])
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path)],
                            cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert "5 passed" in result.stdout
