"""The safe loader, proven with real installs.

The example plugin and two deliberately broken plugins (one raising at import, one with a
misspelled hook name) are built and pip-installed into a throwaway virtual environment; the real
``massgen-plugins list --json`` then runs there. The throwaway environment sees this
environment's packages through a ``.pth`` file, so nothing is downloaded.
"""

from __future__ import annotations

import json
import os
import subprocess
import textwrap
from pathlib import Path

import pytest
from massgen_plugins.testing.venvs import plugin_source, venv_with_plugins

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "third_party_plugin"

pytestmark = pytest.mark.slow

BROKEN_IMPORT = {
    "dist": "massgen-plugins-broken-import",
    "package": "massgen_plugins_broken_import",
    "ep": "broken_import",
    "code": 'raise ImportError("this plugin needs libfoo, which is not installed")\n',
}
MISSPELLED = {
    "dist": "massgen-plugins-misspelled",
    "package": "massgen_plugins_misspelled",
    "ep": "misspelled",
    "code": textwrap.dedent(
        """
        from massgen_plugins import hookimpl

        @hookimpl
        def compres(request):  # meant: compress
            return None
        """
    ),
}


def _write_plugin(root: Path, spec: dict[str, str]) -> Path:
    return plugin_source(root, dist=spec["dist"], package=spec["package"], entry_point=spec["ep"], code=spec["code"])


@pytest.fixture(scope="module")
def plugin_env(tmp_path_factory) -> Path:
    """A virtual environment with the three test plugins really installed; returns its python."""
    root = tmp_path_factory.mktemp("plugin-env")
    return venv_with_plugins(root, [EXAMPLE, _write_plugin(root, BROKEN_IMPORT), _write_plugin(root, MISSPELLED)])


def run_list(python: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("MASSGEN_PLUGINS_")}
    environ.update(env)
    return subprocess.run(
        [str(python), "-m", "massgen_plugins", "list", *args],
        capture_output=True, text=True, env=environ, timeout=120,
    )


def by_name(result: subprocess.CompletedProcess[str]) -> dict[str, dict]:
    return {p["name"]: p for p in json.loads(result.stdout)}


def test_good_plugin_loads_and_broken_ones_are_isolated(plugin_env):
    result = run_list(plugin_env, "--json")
    assert result.returncode == 0, result.stderr
    plugins = by_name(result)

    good = plugins["dedupe"]
    assert good["status"] == "loaded" and good["error"] is None
    assert good["hooks"] == ["compress"]
    assert (good["version"], good["distribution"]) == ("0.1.0", "massgen-plugins-dedupe")
    assert good["entry_point"] == "dedupe = massgen_plugins_dedupe"
    assert good["module"] == "massgen_plugins_dedupe"

    broken = plugins["broken_import"]
    assert broken["status"] == "failed"
    assert broken["error"] == "ImportError: this plugin needs libfoo, which is not installed"

    misspelled = plugins["misspelled"]
    assert misspelled["status"] == "failed"
    assert "unknown hook(s) compres" in misspelled["error"]

    warnings = [line for line in result.stderr.splitlines() if line.startswith("massgen-plugins: warning:")]
    assert len(warnings) == 2, result.stderr
    assert any("massgen-plugins-broken-import 0.0.1" in w and "pip uninstall massgen-plugins-broken-import" in w
               for w in warnings)


def test_human_table_still_works_with_broken_plugins(plugin_env):
    result = run_list(plugin_env)
    assert result.returncode == 0
    assert "dedupe" in result.stdout and "failed" in result.stdout and "ImportError" in result.stdout


def test_allow_list_by_entry_point_or_distribution_name(plugin_env):
    for name in ("dedupe", "massgen-plugins-dedupe", "MASSGEN_PLUGINS_DEDUPE"):
        plugins = by_name(run_list(plugin_env, "--json", MASSGEN_PLUGINS_LOAD=name))
        assert plugins["dedupe"]["status"] == "loaded", name
        assert plugins["broken_import"]["status"] == "disabled"
        assert plugins["misspelled"]["status"] == "disabled"


def test_empty_allow_list_loads_no_plugin(plugin_env):
    result = run_list(plugin_env, "--json", MASSGEN_PLUGINS_LOAD="")
    assert result.returncode == 0 and "warning" not in result.stderr
    assert {p["status"] for p in json.loads(result.stdout)} == {"disabled"}


def test_block_list_silences_a_broken_plugin(plugin_env):
    result = run_list(plugin_env, "--json", MASSGEN_PLUGINS_DISABLED="broken_import,massgen-plugins-misspelled")
    plugins = by_name(result)
    assert plugins["broken_import"]["status"] == "disabled"
    assert plugins["misspelled"]["status"] == "disabled"
    assert plugins["dedupe"]["status"] == "loaded"
    assert "warning" not in result.stderr


def test_block_list_disables_a_builtin(plugin_env):
    plugins = by_name(run_list(plugin_env, "--json", "--all", MASSGEN_PLUGINS_DISABLED="errors_generic"))
    assert plugins["massgen_plugins.default_plugins.errors_generic"]["status"] == "disabled"


def test_strict_mode_reraises(plugin_env):
    result = run_list(plugin_env, "--json", MASSGEN_PLUGINS_STRICT="1")
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "failed to import" in result.stderr or "is invalid" in result.stderr


def test_hook_filter(plugin_env):
    plugins = by_name(run_list(plugin_env, "--json", "--hook", "compress"))
    assert "dedupe" in plugins and "broken_import" not in plugins
    assert all("compress" in p["hooks"] for p in plugins.values())


def test_all_includes_builtins_only_when_asked(plugin_env):
    without = by_name(run_list(plugin_env, "--json"))
    with_all = by_name(run_list(plugin_env, "--json", "--all"))
    builtins = {n for n, p in with_all.items() if p["builtin"]}
    assert builtins and not builtins & set(without)
