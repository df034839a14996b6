"""Meta-tests (datasette's pattern): every hook is documented and tested."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest
from massgen_plugins import hookspecs

ROOT = Path(__file__).resolve().parents[1]
HOOKS = sorted(
    name for name, value in vars(hookspecs).items() if callable(value) and hasattr(value, "massgen_plugins_spec")
)


def test_there_are_hooks():
    assert {"list_models", "count_tokens", "detect_overflow", "compress", "analyze_logs",
            "complete", "memory_store"} <= set(HOOKS)


@pytest.mark.parametrize("hook", HOOKS)
def test_hook_has_a_docstring(hook):
    doc = inspect.getdoc(getattr(hookspecs, hook)) or ""
    assert len(doc) > 80, f"hookspec {hook} needs a docstring saying when it is called and how results combine"
    assert any(word in doc for word in ("First result", "Collected", "Chained")), hook


@pytest.mark.parametrize("hook", HOOKS)
def test_hook_is_documented(hook):
    page = (ROOT / "docs" / "plugins" / "hooks.md").read_text(encoding="utf-8")
    signature = f"{hook}({', '.join(inspect.signature(getattr(hookspecs, hook)).parameters)})"
    assert f"## `{signature}`" in page, f"docs/plugins/hooks.md must have a '## `{signature}`' section"


@pytest.mark.parametrize("hook", HOOKS)
def test_hook_has_a_test(hook):
    pattern = re.compile(rf"def test_hook_{hook}\b")
    files = list((ROOT / "tests").rglob("test_*.py")) + list((ROOT / "plugins").rglob("test_*.py"))
    assert any(pattern.search(f.read_text(encoding="utf-8")) for f in files), f"no test_hook_{hook} found"


def test_every_bundled_plugin_is_in_the_dev_install():
    listed = (ROOT / "requirements-dev.txt").read_text(encoding="utf-8")
    for folder in sorted((ROOT / "plugins").iterdir()):
        if (folder / "pyproject.toml").is_file():
            assert f"-e plugins/{folder.name}" in listed, f"add '-e plugins/{folder.name}' to requirements-dev.txt"
