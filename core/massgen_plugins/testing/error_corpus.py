"""Real provider errors, raised the way a user meets them.

A corpus row (``bench/data/overflow_corpus.jsonl``) is one error someone pasted into a public issue
or pull request, with its source URL. :func:`raise_row` turns it back into the exception a user's
code holds:

==============  ==================================================================================
``client``      how the row is raised
==============  ==================================================================================
``openai``      the ``openai`` SDK against the emulator, which answers with the row's status and
                body (``stream`` rows: one server-sent event after HTTP 200)
``anthropic``   the ``anthropic`` SDK, the same way
``genai``       ``google-genai``, the same way
``groq``        the ``groq`` SDK, the same way
``httpx``       a plain ``httpx`` POST and ``raise_for_status()`` (an ``httpx.HTTPStatusError``)
``exception``   ``Exception(message)``: the text as a log line or a wrapping library shows it
==============  ==================================================================================

A row holds either the verbatim ``body`` or, when only the message was pasted, the ``message``
and the ``envelope`` the server wraps it in (:data:`ENVELOPES`; only the message is
verbatim then). Each row also says what a detector must answer: ``label`` (``overflow`` or the
kind of non-overflow: ``rate_limit``, ``tpm_too_large``, ``quota``, ``output_cap``, ``payload``,
``auth``, ``overloaded``, ``other``) and, for overflows, the token ``limit``/``requested`` the text
states.

This module imports nothing from ``massgen_plugins`` at import time, so the peer runners of
``bench/overflow_detection.py`` load it by path into their own environments (other SDK versions).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

#: Clients that make a real HTTP call to the emulator (the rest raise a plain exception).
HTTP_CLIENTS = frozenset({"openai", "anthropic", "genai", "groq", "httpx"})

#: Emulator provider path each HTTP client calls.
EMULATOR_PROVIDER = {"openai": "openai", "httpx": "openai", "anthropic": "anthropic", "genai": "gemini",
                     "groq": "groq"}


def _openai_envelope(message: str, status: int) -> Any:
    return {"error": {"message": message}}


def _vllm_envelope(message: str, status: int) -> Any:
    # vllm/entrypoints/openai/protocol.py ErrorResponse
    return {"object": "error", "message": message, "type": "BadRequestError", "param": None, "code": status}


def _llamacpp_envelope(message: str, status: int) -> Any:
    return {"error": {"code": status, "message": message, "type": "invalid_request_error"}}


def _xai_envelope(message: str, status: int) -> Any:
    # xAI REST: the top-level ``error`` is a string
    return {"code": "Client specified an invalid argument", "error": message}


#: How a server wraps a message, for rows that quote only the message.
ENVELOPES: dict[str, Callable[[str, int], Any]] = {
    "openai": _openai_envelope,
    "vllm": _vllm_envelope,
    "llamacpp": _llamacpp_envelope,
    "xai": _xai_envelope,
}


def load(path: str | Path) -> list[dict[str, Any]]:
    """The rows of a JSONL corpus file."""
    rows = []
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if line.strip():
                row = json.loads(line)
                row.setdefault("line", number)
                rows.append(row)
    return rows


def body_of(row: dict[str, Any]) -> Any:
    """The response body the emulator sends for ``row``."""
    if row.get("body") is not None:
        return row["body"]
    envelope = ENVELOPES[row.get("envelope") or "openai"]
    return envelope(row["message"], int(row.get("status") or 400))


def is_overflow(row: dict[str, Any]) -> bool:
    return row.get("label") == "overflow"


def fault_for(row: dict[str, Any]) -> dict[str, Any] | None:
    """Keyword arguments of the emulator ``Fault`` that answers ``row`` (``None``: no HTTP call)."""
    if row.get("client") not in HTTP_CLIENTS:
        return None
    fault: dict[str, Any] = {"kind": "custom", "provider": EMULATOR_PROVIDER[row["client"]], "body": body_of(row),
                             "times": 1}
    if row.get("stream"):
        fault.update(sse=True, status=int(row.get("status") or 200))
    else:
        fault["status"] = int(row.get("status") or 400)
    return fault


def raise_row(row: dict[str, Any], base_urls: dict[str, str]) -> BaseException | None:
    """Make the call ``row`` describes and return what was raised (``None``: nothing was).

    ``base_urls`` maps the emulator's provider paths (``openai``, ``anthropic``, ``gemini``,
    ``groq``) to base URLs; the matching fault must already be injected (:func:`fault_for`).
    """
    client = row.get("client")
    if client == "exception":
        return Exception(row["message"])
    caller = _CALLERS.get(str(client))
    if caller is None:
        raise ValueError(f"corpus row {row.get('id')!r}: unknown client {client!r}")
    try:
        caller(row, base_urls)
    except Exception as exc:  # the point: whatever the client raised
        return exc
    return None


def _messages() -> list[dict[str, str]]:
    return [{"role": "user", "content": "hello"}]


def _openai(row: dict[str, Any], urls: dict[str, str]) -> None:
    import openai

    client = openai.OpenAI(base_url=urls["openai"], api_key="sk-corpus-test", max_retries=0, timeout=30)
    if row.get("stream"):
        for _ in client.chat.completions.create(model="corpus-model", messages=_messages(),  # type: ignore[arg-type]
                                                stream=True):
            pass
    else:
        client.chat.completions.create(model="corpus-model", messages=_messages())  # type: ignore[arg-type]


def _anthropic(row: dict[str, Any], urls: dict[str, str]) -> None:
    import anthropic

    client = anthropic.Anthropic(base_url=urls["anthropic"], api_key="sk-ant-corpus-test", max_retries=0, timeout=30)
    client.messages.create(model="claude-corpus", max_tokens=16, messages=_messages())  # type: ignore[arg-type]


def _genai(row: dict[str, Any], urls: dict[str, str]) -> None:
    from google import genai
    from google.genai import types

    client = genai.Client(api_key="corpus-test-key",
                          http_options=types.HttpOptions(base_url=urls["gemini"], api_version="v1beta",
                                                         timeout=30_000))
    client.models.generate_content(model="gemini-corpus", contents="hello")


def _groq(row: dict[str, Any], urls: dict[str, str]) -> None:
    import groq

    client = groq.Groq(base_url=urls["groq"], api_key="gsk_corpus_test", max_retries=0, timeout=30)
    client.chat.completions.create(model="corpus-model", messages=_messages())  # type: ignore[arg-type]


def _httpx(row: dict[str, Any], urls: dict[str, str]) -> None:
    import httpx

    response = httpx.post(urls["openai"].rstrip("/") + "/chat/completions", timeout=30,
                          headers={"Authorization": "Bearer sk-corpus-test"},
                          json={"model": "corpus-model", "messages": _messages()})
    response.raise_for_status()


_CALLERS: dict[str, Callable[[dict[str, Any], dict[str, str]], None]] = {
    "openai": _openai, "anthropic": _anthropic, "genai": _genai, "groq": _groq, "httpx": _httpx,
}
