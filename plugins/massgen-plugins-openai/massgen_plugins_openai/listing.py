"""Model listing helpers shared by the OpenAI-compatible plugins.

Each provider's listing differs (each provider's API reference): OpenAI's ``/models`` has no window
field, xAI adds ``/language-models`` with integer prices, Nebius gives ``context_length`` and
per-token price strings under ``?verbose=true``, OpenRouter gives ``context_length``,
``top_provider.max_completion_tokens`` and per-token price strings. The helpers here fetch raw
JSON through the SDK client (so auth, base URL and timeouts are the client's) and turn common
fields into :class:`~massgen_plugins.types.ModelInfo` values.
"""

from __future__ import annotations

import re
from typing import Any

# id fragments → model kind, checked in order (first match wins)
_KIND_RULES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("embedding", re.compile(r"embed|(^|[-_/])bge[-_]", re.I)),
    ("moderation", re.compile(r"moderation|guard", re.I)),
    ("transcription", re.compile(r"whisper|transcri", re.I)),
    ("tts", re.compile(r"(^|[-_/])tts|text-to-speech", re.I)),
    ("image", re.compile(r"dall-e|gpt-image|(^|[-_/])image|imagine|flux|stable-diffusion|sdxl", re.I)),
    ("realtime", re.compile(r"realtime", re.I)),
    ("audio", re.compile(r"(^|[-_/])audio", re.I)),
    ("video", re.compile(r"sora|(^|[-_/])video", re.I)),
    # legacy completion-only models; an "-Instruct" suffix (Llama-3.3-70B-Instruct) is a chat model
    ("completion", re.compile(r"^(babbage|davinci)-\d+$|^gpt-3\.5-turbo-instruct(-\d+)?$", re.I)),
)


def kind_from_id(model_id: str) -> str:
    """A model's kind guessed from its id: chat, embedding, tts, transcription, image, ..."""
    for kind, pattern in _KIND_RULES:
        if pattern.search(model_id):
            return kind
    return "chat"


def kind_from_modality(modality: str | None, output_modalities: list[str] | None = None) -> str | None:
    """A kind from an ``architecture.modality`` string (``"text->text"``) or output modality list."""
    outputs = [o.lower() for o in output_modalities or []]
    if not outputs and modality and "->" in modality:
        outputs = [o.strip().lower() for o in modality.split("->", 1)[1].split("+")]
    if not outputs:
        return None
    if "text" in outputs:
        return "chat"
    if any("embed" in o for o in outputs):
        return "embedding"
    if "image" in outputs:
        return "image"
    if "audio" in outputs or "speech" in outputs:
        return "tts"
    return outputs[0]


def as_int(value: Any) -> int | None:
    """A positive int from an int or numeric string; ``None`` otherwise."""
    if isinstance(value, bool) or value is None:
        return None
    try:
        number = int(float(value))
    except (TypeError, ValueError):
        return None
    return number if number > 0 else None


def per_token_to_per_million(value: Any) -> float | None:
    """USD per token (``"0.00000015"`` or a number) as USD per million tokens; negative
    (OpenRouter's ``"-1"`` for variable-price routers) and missing values give ``None``."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    if number < 0:
        return None
    return round(number * 1_000_000, 6)


def extras(model: Any) -> dict[str, Any]:
    """Every field of an SDK model object, including those the SDK type does not declare."""
    if isinstance(model, dict):
        return model
    data = dict(getattr(model, "model_extra", None) or {})
    for key in ("id", "created", "owned_by", "object"):
        if hasattr(model, key):
            data[key] = getattr(model, key)
    return data


def get_json(client: Any, path: str, query: dict[str, Any] | None = None) -> Any:
    """GET ``path`` (relative to the client's base URL) and return the decoded JSON."""
    options: dict[str, Any] = {"params": query} if query else {}
    return client.get(path, cast_to=object, options=options)


def paged(client: Any, path: str, query: dict[str, Any] | None = None, key: str = "data",
          max_pages: int = 100) -> list[dict[str, Any]]:
    """Every item of a list endpoint, following ``links.next`` / ``next_page`` / ``has_more``
    when the provider paginates (the classic OpenAI-compatible lists are a single page)."""
    items: list[dict[str, Any]] = []
    next_query = dict(query or {})
    seen: set[str] = set()
    for _ in range(max_pages):
        page = get_json(client, path, next_query)
        if not isinstance(page, dict):
            break
        batch = page.get(key)
        if not isinstance(batch, list):
            batch = _v if isinstance(_v := page.get("models"), list) else []
        items.extend(item for item in batch if isinstance(item, dict))
        nxt = _next_query(page, batch, next_query)
        if nxt is None:
            break
        marker = repr(sorted(nxt.items()))
        if marker in seen:
            break
        seen.add(marker)
        next_query = nxt
    return items


def _next_query(page: dict[str, Any], batch: list[Any], current: dict[str, Any]) -> dict[str, Any] | None:
    links = page.get("links")
    link = links.get("next") if isinstance(links, dict) else None
    if isinstance(link, str) and "?" in link:
        from urllib.parse import parse_qsl

        return {**current, **dict(parse_qsl(link.split("?", 1)[1]))}
    if page.get("has_more") and batch and isinstance(batch[-1], dict) and batch[-1].get("id"):
        return {**current, "after": batch[-1]["id"]}
    return None
