"""Testing support: the provider emulator and the pytest plugin.

``Emulator`` is a real HTTP server that speaks the wire formats of OpenAI, Anthropic, Gemini,
Groq, xAI, Nebius and OpenRouter, with an enforced model catalogue, fault injection and a
request log. Import cost is the standard library only; no provider SDK is imported.
"""

from __future__ import annotations

from .server import Emulator
from .spec import FAULT_KINDS, PROVIDERS, EmulatedModel, Fault, RecordedRequest

__all__ = ["Emulator", "EmulatedModel", "Fault", "RecordedRequest", "FAULT_KINDS", "PROVIDERS"]
