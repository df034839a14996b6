"""Meta-tests (datasette's pattern): every hook is documented and tested, every CLI command is
documented and has help, every package ships its type information."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import click
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


def _commands(command: click.Command, path: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], click.Command]]:
    """Every command under the ``massgen-plugins`` group, subgroups walked recursively."""
    found = [(path, command)] if path else []
    if isinstance(command, click.Group):
        ctx = click.Context(command)
        for name in command.list_commands(ctx):
            sub = command.get_command(ctx, name)
            assert sub is not None, f"{' '.join(path + (name,))} is listed but cannot be loaded"
            found += _commands(sub, path + (name,))
    return found


def _cli_commands() -> list[tuple[tuple[str, ...], click.Command]]:
    from massgen_plugins.cli import cli

    return _commands(cli)


COMMANDS = [" ".join(path) for path, _ in _cli_commands()]


def test_there_are_commands():
    assert {"list", "models", "tokens", "compress", "memory", "memory stats", "logs analyze", "emulate",
            "demo"} <= set(COMMANDS)


@pytest.mark.parametrize("name", COMMANDS)
def test_command_has_help(name):
    command = dict(_cli_commands())[tuple(name.split())]
    assert len((command.help or "").strip()) >= 20, f"`massgen-plugins {name}` needs a docstring (its --help text)"
    for param in command.params:
        if isinstance(param, click.Option) and not param.hidden:
            assert (param.help or "").strip(), f"option {param.opts} of `massgen-plugins {name}` has no help"


@pytest.mark.parametrize("name", COMMANDS)
def test_command_is_documented(name):
    docs = "\n".join(p.read_text(encoding="utf-8") for p in (ROOT / "docs").rglob("*.md"))
    pattern = re.compile(rf"massgen-plugins {re.escape(name)}(?![\w-])")
    assert pattern.search(docs), f"`massgen-plugins {name}` is not documented anywhere under docs/"
    assert f"## `massgen-plugins {name}`" in (ROOT / "docs" / "cli.md").read_text(encoding="utf-8") or \
        name.split()[0] not in _core_commands(), f"docs/cli.md needs a '## `massgen-plugins {name}`' section"


def _core_commands() -> set[str]:
    from massgen_plugins.cli import COMMANDS as CORE

    return set(CORE)


def test_every_package_ships_its_type_information():
    packages = [ROOT / "core" / "massgen_plugins"] + sorted((ROOT / "plugins").glob("*/massgen_plugins_*"))
    missing = [str(p.relative_to(ROOT)) for p in packages if p.is_dir() and not (p / "py.typed").is_file()]
    assert not missing, f"add an empty py.typed to: {', '.join(missing)}"


def test_every_docs_page_is_in_the_nav():
    nav = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    pages = [p.relative_to(ROOT / "docs").as_posix() for p in (ROOT / "docs").rglob("*.md")]
    assert [p for p in pages if p not in nav] == []
