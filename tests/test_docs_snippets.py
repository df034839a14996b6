"""Python snippets in the documentation run as written in a script: no top-level ``await``
(a SyntaxError outside a running loop): coroutines are started with ``asyncio.run``."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]


def snippets(page: Path) -> list[str]:
    return re.findall(r"```python\n(.*?)```", page.read_text(encoding="utf-8"), re.DOTALL)


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_top_level_await(page):
    for code in snippets(page):
        try:
            tree = ast.parse(code)
        except SyntaxError:
            continue  # fragments with "..." placeholders; the await check below is textual
        for node in tree.body:  # statements at module level; inside a def, await is fine
            if isinstance(node, (ast.AsyncFunctionDef, ast.FunctionDef, ast.ClassDef)):
                continue
            for child in ast.walk(node):
                assert not isinstance(child, (ast.Await, ast.AsyncFor, ast.AsyncWith)), (
                    f"{page.name}: top-level await (use asyncio.run) in\n{code}")
