"""massgen-plugins-dedupe: a compression stage that replaces repeated tool results with a stub.

Agents often call the same tool twice and get the same large answer (re-reading a file, polling
a status). Only the latest copy carries information; older copies are replaced by a one-line
stub that names the message they duplicate. The stage runs early in the chain (order 150, after
observation masking, before any model-backed stage) because it is free and loses nothing: every
replaced message is archived with provenance, so the host's memory keeps the original.

The plugin declares no provider (no ``register_providers``), so the host calls its stage for every
provider's conversations; a provider plugin's stage would be called only for its own provider's.
The stage runs under the ``compress`` deadline, on a worker thread (it is a plain function).
"""

from __future__ import annotations

import hashlib

from massgen_plugins import hookimpl
from massgen_plugins.stages import compression_stage

STUB = "[duplicate tool result: identical to the later result {keep}; original archived as {archived}]"
MIN_CHARS = 200  # smaller results are not worth a stub


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


@hookimpl
@compression_stage("dedupe", order=150)
def compress(request):
    """Stub out every tool result that a *later* tool result repeats verbatim."""
    from massgen_plugins.types import ArchivedMessage, CompressionResult

    latest: dict[str, int] = {}
    for index, message in enumerate(request.messages):
        if message.role == "tool" and len(message.text()) >= MIN_CHARS:
            latest[_digest(message.text())] = index

    messages, archived = [], []
    for index, message in enumerate(request.messages):
        text = message.text() if message.role == "tool" else ""
        keep = latest.get(_digest(text)) if len(text) >= MIN_CHARS else None
        if keep is None or keep == index:
            messages.append(message)
            continue
        original_id = f"msg-{index}-{_digest(text)}"
        stub = STUB.format(keep=request.messages[keep].tool_call_id, archived=original_id)
        messages.append(message.model_copy(update={"content": stub}))
        archived.append(ArchivedMessage(id=original_id, message=message, replaced_by=f"stub-{index}",
                                        stage="dedupe"))
    if not archived:
        return None  # cannot help: let the next stage try
    return CompressionResult(messages=messages, stage="dedupe", archived=archived,
                             notes=[f"stubbed {len(archived)} repeated tool result(s)"])
