"""What a user expects of the packages: the license text in every distribution and declared, a
changelog in Keep a Changelog form, working shell completion, and a CI step that builds a wheel
for every distribution and installs them into a clean environment."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[1]
DISTRIBUTIONS = [ROOT, *sorted(p.parent for p in (ROOT / "plugins").glob("*/pyproject.toml"))]


@pytest.mark.parametrize("dist", DISTRIBUTIONS, ids=lambda p: p.name)
def test_every_distribution_ships_and_declares_the_apache_license(dist):
    project = tomllib.loads((dist / "pyproject.toml").read_text())["project"]
    assert project["license"] == "Apache-2.0"
    assert project.get("license-files") == ["LICENSE"], "declare the file so it lands in the wheel"
    text = (dist / "LICENSE").read_text()
    assert text == (ROOT / "LICENSE").read_text()
    assert "Apache License" in text and "Version 2.0, January 2004" in text
    assert "END OF TERMS AND CONDITIONS" in text and len(text) > 10_000, "the full text, not a stub"


def test_changelog_follows_keep_a_changelog():
    text = (ROOT / "CHANGELOG.md").read_text()
    assert "keepachangelog.com" in text
    versions = re.findall(r"^## \[([^\]]+)\]", text, re.MULTILINE)
    assert versions[0] == "Unreleased" and "0.1.0" in versions
    for version in versions:
        assert re.search(rf"^\[{re.escape(version)}\]: https?://", text, re.MULTILINE), f"no link for {version}"
    sections = set(re.findall(r"^### (\w+)", text, re.MULTILINE))
    assert sections <= {"Added", "Changed", "Deprecated", "Removed", "Fixed", "Security"}, sections


def complete(words: str, shell: str = "bash") -> list[str]:
    env = {**os.environ, "COMP_WORDS": words, "COMP_CWORD": str(len(words.split()) - (0 if words.endswith(" ") else 1)),
           "_MASSGEN_PLUGINS_COMPLETE": f"{shell}_complete"}
    out = subprocess.run([sys.executable, "-m", "massgen_plugins"], env=env, capture_output=True, text=True,
                         timeout=60).stdout
    return [line.split(",", 1)[1] for line in out.splitlines() if "," in line]


def test_shell_completion_scripts_and_answers():
    env = {**os.environ, "_MASSGEN_PLUGINS_COMPLETE": "bash_source"}
    script = subprocess.run([sys.executable, "-m", "massgen_plugins"], env=env, capture_output=True, text=True,
                            timeout=60).stdout
    assert "_massgen_plugins_completion()" in script and "complete " in script
    assert complete("massgen-plugins lo") == ["logs"]
    assert complete("massgen-plugins logs su") == ["summary"]
    assert complete("massgen-plugins compress f.json --strategy ") == ["conservative", "balanced", "aggressive"]


def test_ci_builds_and_installs_a_wheel_for_every_distribution():
    run = (ROOT / ".ci" / "run").read_text()
    assert "bash .ci/wheels.sh" in run
    script = (ROOT / ".ci" / "wheels.sh").read_text()
    assert "--no-isolation" in script and "plugins/*/" in script and "python -m venv" in script
    assert "list --json" in script
