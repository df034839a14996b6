"""The gateway's stored records: virtual keys, spend, and the session cursors that map a
client's resent history onto a persisted conversation."""

from __future__ import annotations

import fnmatch

from pydantic import BaseModel, Field


class KeyRecord(BaseModel):
    """A virtual key as stored (the key itself is never stored: only its SHA-256)."""

    id: str
    name: str
    prefix: str = Field(description="The first characters of the key, to recognise it in listings.")
    rpm: int | None = Field(default=None, description="Requests per minute; None = unlimited.")
    tpm: int | None = Field(default=None, description="Tokens (input + output) per minute; None = unlimited.")
    max_tokens: int | None = Field(default=None, description="Lifetime token budget; None = unlimited.")
    models: str | None = Field(default=None, description="Glob(s) of allowed models, comma-separated.")
    created: float
    revoked: float | None = None

    def allows(self, model: str) -> bool:
        """True when ``model`` (``provider/model`` or an alias) matches one of the key's globs."""
        if not self.models:
            return True
        return any(fnmatch.fnmatchcase(model, glob.strip()) for glob in self.models.split(",") if glob.strip())


class Spend(BaseModel):
    """What a key has used so far."""

    key_id: str
    requests: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0

    @property
    def tokens(self) -> int:
        return self.input_tokens + self.output_tokens


class Window(BaseModel):
    """One key's usage in the current one-minute window."""

    requests: int
    tokens: int
    resets_in: float = Field(description="Seconds until the window ends.")


class SessionCursor(BaseModel):
    """Where a client's view of a persisted session stands.

    ``consumed`` messages of the client's history (whose chained hash is ``digest``) are already
    in the stored conversation ``inner_id``; the gateway sends only what follows them.
    """

    session_id: str
    inner_id: str
    consumed: int
    digest: str
    generation: int = 0
