"""One dialect per provider; each speaks that provider's wire format."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..server import Emulator
    from .base import Dialect


def make_dialects(emulator: Emulator) -> dict[str, Dialect]:
    """A fresh dialect instance for every served provider."""
    from .anthropic import AnthropicDialect
    from .gemini import GeminiDialect
    from .groq import GroqDialect
    from .local import OllamaDialect, VLLMDialect
    from .nebius import NebiusDialect
    from .openai import OpenAIDialect
    from .openrouter import OpenRouterDialect
    from .xai import XAIDialect

    classes = [OpenAIDialect, AnthropicDialect, GeminiDialect, GroqDialect, XAIDialect, NebiusDialect, OpenRouterDialect,
               VLLMDialect, OllamaDialect]
    return {cls.provider: cls(emulator) for cls in classes}
