"""``massgen_plugins.detect_overflow``: is this provider error a context-window overflow?"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .manager import get_hooks

if TYPE_CHECKING:
    from .types import Overflow


def provider_of(error: BaseException) -> str | None:
    """Guess the provider from the SDK that raised ``error`` (``openai``, ``anthropic``, ...)."""
    root = type(error).__module__.split(".", 1)[0]
    if root == "google":
        return "gemini"
    return root if root in {"openai", "anthropic", "groq"} else None


def detect_overflow(error: BaseException, *, model: str | None = None) -> Overflow | None:
    """Classify ``error`` -- the exception a provider SDK raised, or an in-stream error event --
    as a context-window overflow, or return ``None``.

    :param model: the ``provider/model`` the failed request was for; it tells the detector which
        provider's rules apply (the openai SDK also serves xAI, Nebius and OpenRouter). Without it
        the provider is guessed from the exception's SDK.
    :returns: an :class:`~massgen_plugins.types.Overflow` with ``provider`` and, when the error
        states them, ``limit`` and ``requested`` token counts.
    """
    provider = model.split("/", 1)[0] if model and "/" in model else provider_of(error)
    return get_hooks().detect_overflow(error, provider=provider, model=model).value
