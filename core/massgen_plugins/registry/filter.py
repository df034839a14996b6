"""Chat-capable filtering: which listed models can hold a conversation.

A model's ``kind`` comes from the provider API when it says (Gemini's supported methods,
OpenRouter's output modalities, a plugin's own knowledge), else from the bundled data, else it
is derived from the id with the patterns below (MassGen's ``_is_chat_model`` list, extended).
``massgen-plugins models --all`` skips the filter.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..types import ModelInfo

# (kind, pattern on the lower-cased id); the first match wins
_KIND_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("embedding", re.compile(r"embed|(^|[/_-])e5-|bge-|gte-|nomic-embed")),
    ("transcription", re.compile(r"whisper|transcribe|(^|[/_-])stt([/_-]|$)|distil-whisper")),
    ("tts", re.compile(r"(^|[/_-])tts([/_-]|$)|-tts|playai-tts|orpheus|text-to-speech")),
    ("moderation", re.compile(r"moderation|(^|[/_-])(llama-)?guard|safeguard|prompt-guard|shieldgemma")),
    ("image", re.compile(r"dall-e|gpt-image|imagen|(^|[/_-])sora|flux|stable-diffusion|sdxl|"
                         r"-image(-|$)|image-preview|image-generation|(^|[/_-])veo-")),
    ("audio", re.compile(r"-audio|realtime|native-audio|(^|[/_-])lyria")),
    ("completion", re.compile(r"^(babbage|davinci)(-|$)|-instruct-0914$|^gpt-3\.5-turbo-instruct")),
    ("other", re.compile(r"^(ft:|aqa$)|computer-use|codex-mini-latest$|^text-(ada|babbage|curie|davinci)|"
                         r"(^|[/_-])rerank")),
)


def derive_kind(model_id: str) -> str:
    """The kind implied by a model id: ``chat`` unless a non-chat pattern matches."""
    lowered = model_id.lower()
    for kind, pattern in _KIND_PATTERNS:
        if pattern.search(lowered):
            return kind
    return "chat"


def is_chat(model: ModelInfo) -> bool:
    """True when ``model`` is usable for chat (its ``chat`` flag, else its ``kind``, else its id)."""
    if model.chat is not None:
        return bool(model.chat)
    kind = model.kind or derive_kind(model.id)
    return kind == "chat"


def chat_only(models: list[ModelInfo]) -> list[ModelInfo]:
    """Only the chat-capable models, in their original order."""
    return [m for m in models if is_chat(m)]
