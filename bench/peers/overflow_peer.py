"""Answer overflow verdicts with a peer's own detector, inside the peer's own environment.

Run by ``bench/overflow_detection.py`` as ``<peer venv>/bin/python bench/peers/overflow_peer.py
massgen|litellm``. Each stdin line is ``{"row": {...}, "urls": {...}}``: the runner raises the
row with the peer environment's own SDKs (``massgen_plugins.testing.error_corpus``, loaded by
path, so massgen-plugins need not be installed here) against the emulator the parent started and
injected, classifies the exception, and writes one line ``{"raised": bool, "flagged": bool,
"limit": int|null, "requested": int|null, "error": str|null}``.

* ``massgen``: MassGen's ``is_context_length_error`` and ``parse_context_error_info`` from
  ``massgen/backend/_context_errors.py``, loaded by path (importing the ``massgen`` package
  itself pulls in its whole agent stack);
* ``litellm``: ``litellm.litellm_core_utils.exception_mapping_utils.exception_type`` -- what
  LiteLLM runs on every provider exception; a verdict of overflow is LiteLLM raising
  ``ContextWindowExceededError``.
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]

#: LiteLLM's ``custom_llm_provider`` for each corpus provider (anything else: ``openai``, as an
#: OpenAI-compatible endpoint is configured in LiteLLM).
LITELLM_PROVIDERS = {
    "openai": "openai", "azure-openai": "azure", "azure-ai-inference": "azure_ai", "anthropic": "anthropic",
    "bedrock": "bedrock", "gemini": "gemini", "gemini-code-assist": "gemini", "vertex-ai": "vertex_ai",
    "groq": "groq", "xai": "xai", "openrouter": "openrouter", "deepseek": "deepseek", "together": "together_ai",
    "fireworks": "fireworks_ai", "cerebras": "cerebras", "mistral": "mistral", "cohere": "cohere",
    "vllm": "hosted_vllm", "ollama": "ollama", "lmstudio": "lm_studio", "tgi": "huggingface",
    "hf-inference-api": "huggingface", "hf-chat": "huggingface",
}


def _load(path: Path, name: str) -> Any:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


Verdict = tuple[bool, "int | None", "int | None"]


def massgen_classifier() -> Callable[[dict[str, Any], BaseException], Verdict]:
    spec = importlib.util.find_spec("massgen")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("massgen is not installed in this environment")
    errors = _load(Path(list(spec.submodule_search_locations)[0]) / "backend" / "_context_errors.py",
                   "massgen_context_errors")

    def classify(row: dict[str, Any], exc: BaseException) -> Verdict:
        if not errors.is_context_length_error(exc):
            return False, None, None
        info = errors.parse_context_error_info(exc)
        if info is None:
            return True, None, None
        requested = None
        if info.input_tokens is not None:
            requested = info.input_tokens + (info.max_tokens or 0)
        return True, info.context_limit, requested

    return classify


def litellm_classifier() -> Callable[[dict[str, Any], BaseException], Verdict]:
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    with contextlib.redirect_stdout(io.StringIO()):
        import litellm
        from litellm.litellm_core_utils.exception_mapping_utils import exception_type
    litellm.suppress_debug_info = True

    def classify(row: dict[str, Any], exc: BaseException) -> Verdict:
        provider = LITELLM_PROVIDERS.get(row.get("provider", ""), "openai")
        try:
            with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
                exception_type(model="corpus-model", original_exception=exc, custom_llm_provider=provider)
        except litellm.ContextWindowExceededError:
            return True, None, None  # LiteLLM keeps no parsed counts
        except Exception:
            return False, None, None
        return False, None, None

    return classify


def main() -> None:
    peer = sys.argv[1] if len(sys.argv) > 1 else ""
    factories = {"massgen": massgen_classifier, "litellm": litellm_classifier}
    if peer not in factories:
        raise SystemExit(f"usage: overflow_peer.py {'|'.join(factories)}")
    corpus = _load(ROOT / "core" / "massgen_plugins" / "testing" / "error_corpus.py", "corpus_raiser")
    classify = factories[peer]()
    print(json.dumps({"ready": peer}), flush=True)
    for line in sys.stdin:
        request = json.loads(line)
        row = request["row"]
        try:
            exc = corpus.raise_row(row, request["urls"])
            if exc is None:
                answer: dict[str, Any] = {"raised": False, "flagged": False, "limit": None, "requested": None}
            else:
                flagged, limit, requested = classify(row, exc)
                answer = {"raised": True, "flagged": bool(flagged), "limit": limit, "requested": requested}
        except Exception as exc:  # a crash in the peer is reported, never hidden
            answer = {"raised": False, "flagged": False, "limit": None, "requested": None,
                      "error": f"{type(exc).__name__}: {exc}"}
        print(json.dumps(answer), flush=True)


if __name__ == "__main__":
    main()
