"""Parse and validate ``provider/model`` strings."""

from __future__ import annotations

from typing import NamedTuple

from .errors import ModelStringError, UnknownProviderError


class ModelRef(NamedTuple):
    provider: str
    model: str

    def __str__(self) -> str:
        return f"{self.provider}/{self.model}"


def parse_model(value: str, *, installed: list[str] | None = None) -> ModelRef:
    """Split ``provider/model``; the model part may itself contain slashes
    (``openrouter/openai/gpt-4o-mini``).

    :param installed: when given, the provider must be one of these names.
    :raises ModelStringError: when the string is not of that form.
    :raises UnknownProviderError: when the provider is not installed (the message lists them).
    """
    text = (value or "").strip()
    provider, sep, model = text.partition("/")
    if not sep or not provider or not model or any(c.isspace() for c in text):
        raise ModelStringError(
            f"model {value!r} is not of the form provider/model (for example openai/gpt-4o-mini)"
        )
    provider = provider.lower()
    if installed is not None and provider not in installed:
        names = ", ".join(sorted(installed)) or "none"
        raise UnknownProviderError(
            f"unknown provider {provider!r} in {value!r}; installed providers: {names}. "
            f"Install one with: pip install massgen-plugins-{provider}"
        )
    return ModelRef(provider, model)
