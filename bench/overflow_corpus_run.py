"""The real-world half of ``bench/overflow_detection.py``: every corpus row raised through its
client against the emulator and classified by massgen-plugins and by the peers, each in its own
environment, in the same run.

Peers run as subprocesses (``bench/peers/overflow_peer.py``) in their own virtual environments,
because MassGen and LiteLLM pin other SDK versions than massgen-plugins' dev install. Each peer
raises every row itself, with its own SDKs, from the same emulator answer.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "bench" / "data" / "overflow_corpus.jsonl"
PEER_RUNNER = ROOT / "bench" / "peers" / "overflow_peer.py"
#: providers with a bundled plugin: the detector is told ``provider/model`` for them
BUILTIN_PROVIDERS = frozenset({"openai", "anthropic", "gemini", "groq", "xai", "nebius", "openrouter"})
EMULATOR_PATHS = ("openai", "anthropic", "gemini", "groq")


@dataclass
class Verdict:
    raised: bool
    flagged: bool = False
    limit: int | None = None
    requested: int | None = None
    error: str | None = None


@dataclass
class Score:
    name: str
    verdicts: dict[str, Verdict] = field(default_factory=dict)
    note: str = ""


def default_peer_python(name: str) -> Path:
    """``$<NAME>_PEER_PYTHON``, else ``<repo>/../peer-venvs/<name>/bin/python``."""
    override = os.environ.get(f"{name.upper()}_PEER_PYTHON")
    return Path(override) if override else ROOT.parent / "peer-venvs" / name / "bin" / "python"


def model_ref(row: dict[str, Any]) -> str | None:
    provider = row.get("provider", "")
    return f"{provider}/corpus-model" if provider in BUILTIN_PROVIDERS else None


def _inject(emu: Any, row: dict[str, Any]) -> None:
    from massgen_plugins.testing import Fault
    from massgen_plugins.testing.error_corpus import fault_for

    emu.clear()
    fault = fault_for(row)
    if fault is not None:
        emu.inject(Fault(**fault))


def ours(rows: list[dict[str, Any]], emu: Any, urls: dict[str, str]) -> list[Score]:
    """massgen-plugins with only its built-in detector, then with every installed plugin."""
    import massgen_plugins
    from massgen_plugins.manager import reset_host
    from massgen_plugins.testing.error_corpus import raise_row

    raised: dict[str, BaseException | None] = {}
    for row in rows:
        _inject(emu, row)
        raised[row["id"]] = raise_row(row, urls)
    scores = []
    saved = os.environ.get("MASSGEN_PLUGINS_LOAD")
    for name, load in (("massgen-plugins, built-in", ""), ("massgen-plugins + provider plugins", None)):
        if load is None:
            os.environ.pop("MASSGEN_PLUGINS_LOAD", None)
        else:
            os.environ["MASSGEN_PLUGINS_LOAD"] = load
        reset_host()
        score = Score(name)
        for row in rows:
            exc = raised[row["id"]]
            if exc is None:
                score.verdicts[row["id"]] = Verdict(raised=False)
                continue
            found = massgen_plugins.detect_overflow(exc, model=model_ref(row))
            score.verdicts[row["id"]] = Verdict(True, found is not None, getattr(found, "limit", None),
                                                getattr(found, "requested", None))
        scores.append(score)
    if saved is None:
        os.environ.pop("MASSGEN_PLUGINS_LOAD", None)
    else:
        os.environ["MASSGEN_PLUGINS_LOAD"] = saved
    reset_host()
    return scores


def peer(name: str, label: str, python: Path, rows: list[dict[str, Any]], emu: Any,
         urls: dict[str, str]) -> Score:
    """One peer's verdicts, from its runner in its own environment (a note if it cannot run)."""
    score = Score(label)
    if not python.exists():
        score.note = f"not run: no interpreter at {python} (see docs/benchmarks.md to create it)"
        return score
    proc = subprocess.Popen([str(python), str(PEER_RUNNER), name], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True, cwd=str(ROOT))
    assert proc.stdin is not None and proc.stdout is not None
    try:
        ready = proc.stdout.readline()
        if not ready.strip().startswith("{"):
            score.note = f"not run: {python} could not start the {name} runner"
            return score
        for row in rows:
            _inject(emu, row)
            proc.stdin.write(json.dumps({"row": row, "urls": urls}) + "\n")
            proc.stdin.flush()
            answer = json.loads(proc.stdout.readline())
            score.verdicts[row["id"]] = Verdict(answer["raised"], answer["flagged"], answer.get("limit"),
                                                answer.get("requested"), answer.get("error"))
        version = subprocess.run([str(python), "-c", f"import importlib.metadata as m; print(m.version('{name}'))"],
                                 capture_output=True, text=True).stdout.strip()
        score.name = f"{label} {version}".strip()
    finally:
        proc.stdin.close()
        proc.wait(timeout=60)
    return score


def run(rows: list[dict[str, Any]], peers: dict[str, Path]) -> list[Score]:
    """Every detector's verdict on every row, one emulator, one run."""
    from massgen_plugins.testing import Emulator

    with Emulator() as emu:
        urls = {p: emu.base_url(p) for p in EMULATOR_PATHS}
        scores = ours(rows, emu, urls)
        labels = {"massgen": "MassGen is_context_length_error", "litellm": "LiteLLM exception_type"}
        for name, python in peers.items():
            scores.append(peer(name, labels[name], python, rows, emu, urls))
    return scores


def counts_exact(row: dict[str, Any], verdict: Verdict) -> bool:
    if row.get("limit") is not None and verdict.limit != row["limit"]:
        return False
    return row.get("requested") is None or verdict.requested == row["requested"]


def summary(rows: list[dict[str, Any]], score: Score) -> dict[str, Any]:
    overflows = [r for r in rows if r["label"] == "overflow"]
    negatives = [r for r in rows if r["label"] != "overflow"]
    stated = [r for r in overflows if r.get("limit") is not None or r.get("requested") is not None]
    v = score.verdicts
    hit = [r for r in overflows if r["id"] in v and v[r["id"]].flagged]
    return {
        "hit": len(hit), "overflows": len(overflows),
        "false_alarms": sum(1 for r in negatives if r["id"] in v and v[r["id"]].flagged), "negatives": len(negatives),
        "exact": sum(1 for r in stated if r["id"] in v and v[r["id"]].flagged and counts_exact(r, v[r["id"]])),
        "stated": len(stated),
        "raised": sum(1 for r in rows if r["id"] in v and v[r["id"]].raised),
        "misses": [r for r in overflows if r["id"] in v and not v[r["id"]].flagged],
        "alarms": [r for r in negatives if r["id"] in v and v[r["id"]].flagged],
        "by_label": Counter(r["label"] for r in negatives if r["id"] in v and v[r["id"]].flagged),
    }


def corpus_stats(rows: list[dict[str, Any]]) -> str:
    providers = {r["provider"] for r in rows}
    overflow = sum(1 for r in rows if r["label"] == "overflow")
    http = sum(1 for r in rows if r["client"] != "exception")
    return (f"{len(rows)} rows from {len(providers)} providers and servers: {overflow} overflows, "
            f"{len(rows) - overflow} non-overflows; {http} raised through an HTTP client against the emulator")


if __name__ == "__main__":  # a quick check: python bench/overflow_corpus_run.py
    from massgen_plugins.testing.error_corpus import load

    data = load(CORPUS)
    print(corpus_stats(data))
    for s in run(data, {}):
        print(s.name, summary(data, s)["hit"], summary(data, s)["false_alarms"], file=sys.stdout)
