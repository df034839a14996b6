"""``massgen-plugins list`` must stay fast: it imports no provider SDK, even with every
bundled plugin installed (speed itself is measured by bench/cli_startup.py, not asserted)."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

SDKS = ("openai", "anthropic", "groq", "google.genai", "psycopg", "tiktoken")

PROBE = textwrap.dedent(
    """
    import json, runpy, sys
    sys.argv = ["massgen-plugins", "list", "--all", "--json"]
    try:
        runpy.run_module("massgen_plugins", run_name="__main__")
    except SystemExit as exit:
        assert not exit.code, exit.code
    heavy = sorted(m for m in sys.modules if m.split(".")[0] in {"openai", "anthropic", "groq", "psycopg",
                   "tiktoken"} or m.startswith("google.genai"))
    print(json.dumps(heavy), file=sys.stderr)
    """
)


def test_list_imports_no_provider_sdk():
    result = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    plugins = json.loads(result.stdout)
    assert any(p["status"] == "loaded" for p in plugins)
    imported = json.loads(result.stderr.strip().splitlines()[-1])
    assert imported == [], f"`massgen-plugins list` imported heavy modules: {imported}"


def test_importing_the_package_is_light():
    code = "import sys, massgen_plugins; print(sorted(m for m in sys.modules if m.startswith(('pydantic', 'rich', 'openai'))))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
