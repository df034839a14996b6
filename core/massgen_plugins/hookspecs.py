"""The hook contract: every hook a massgen-plugins plugin can implement.

Plugin authors write ``from massgen_plugins import hookimpl`` and decorate module-level
functions whose names match these specs. The host calls hooks through its typed facade
(:mod:`massgen_plugins.manager`), never through ``pm.hook`` directly, so that one failing, slow
or hanging plugin is skipped with its reason recorded instead of breaking the call.

**Routing.** A provider plugin declares its provider(s) with ``register_providers``. The
provider hooks -- ``list_models``, ``model_metadata``, ``count_tokens``, ``detect_overflow``,
``classify_error``, ``compress``, ``complete``, ``stream`` -- are then called only on the
plugin that owns the provider in question (from the ``provider`` argument, or the provider part
of ``request.model``) and on plugins that own no provider at all. A provider plugin therefore
never checks whether a call is for it: it is. Two plugins declaring one provider is an error.

**Deadlines.** Every implementation runs under a per-hook deadline (see
:mod:`massgen_plugins.hookcall`); a plain ``def`` implementation runs on a worker thread so that
a blocking one never stalls the event loop. A late implementation is skipped and reported.

How results combine, per hook:

* **first result** -- implementations are tried in order; the first that returns a value
  other than ``None`` wins; one that raises is skipped (the reason is recorded).
* **collected** -- every implementation is called; their results are gathered; one that raises
  is isolated and reported.
* **chained** -- each implementation receives the previous one's output and the host re-checks
  its goal after every step (``compress``).

Order: third-party plugins are called before the built-in default plugins, so a plugin can
override a built-in by answering first. ``tryfirst``/``trylast`` work as in pluggy.

Evolution rule (pluggy's opt-in arguments): specs only ever *gain* keyword arguments. An
implementation may accept any subset of a spec's arguments, so plugins written against an older
version keep working. Never give an implementation's parameters default values: pluggy does not
pass arguments to parameters that have defaults. (``count_tokens`` gained ``settings`` this way;
implementations that take only ``request`` still work.)

Hooks may return an awaitable where the docstring says so; the host awaits it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable
from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    import click

    from .compression.toolcalls import ToolAction
    from .memory.store import MemoryStore
    from .overflow_patterns import OverflowPattern
    from .types import (
        AnalysisRequest,
        AnalysisResult,
        CompletionRequest,
        CompletionResponse,
        CompressionRequest,
        CompressionResult,
        ErrorInfo,
        ModelInfo,
        Overflow,
        ProviderInfo,
        ProviderSettings,
        StreamEvent,
        TokenCount,
        TokenCountRequest,
    )

PROJECT = "massgen_plugins"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)

__all__ = ["hookimpl", "hookspec", "PROJECT"]


@hookspec
def register_providers() -> list[ProviderInfo] | ProviderInfo | None:  # type: ignore[empty-body]
    """Declare the provider(s) this plugin implements.

    Called when the host builds its provider -> plugin table. **Collected**: the host merges
    every plugin's declarations; a name declared by two plugins is an error naming both
    distributions, and neither is called for it. Return ``None`` if the plugin implements no
    provider (it is then called for every provider's requests, after the owner, in call order).
    """


@hookspec
def register_commands(cli: click.Group) -> None:
    """Add commands to the ``massgen-plugins`` command line (llm's pattern).

    :param cli: the top-level click group; call ``cli.add_command(command)`` for each command.

    Called once per process, only when a command that is not built in is looked up (or ``--help``
    lists them), so plugins that add no commands cost nothing. **Collected**: every plugin is
    called; one that raises is skipped (its commands are missing) and the others still register.
    A plugin command never replaces a built-in command of the same name. Keep the module that
    defines the commands light: import heavy dependencies inside the command functions.
    """


@hookspec
def list_models(provider: str, settings: ProviderSettings) -> list[ModelInfo] | None:  # type: ignore[empty-body]
    """List the models ``provider``'s API offers right now (network I/O allowed, synchronous).

    :param provider: the provider name the registry is refreshing.
    :param settings: resolved credentials, endpoint and timeout for that provider.
    :returns: every model across all pages, with window and output cap where the API gives them.

    **First result**, routed to the provider's owner. The registry calls it concurrently per
    provider, with a timeout, retries transient errors (raise the SDK's exception) and caches.
    """


@hookspec
def model_metadata(provider: str, offline: bool) -> list[ModelInfo] | None:  # type: ignore[empty-body]
    """Describe models from a source other than the provider's own API (bundled data, a public
    catalogue such as OpenRouter's list).

    :param provider: the provider whose models are wanted.
    :param offline: when true the implementation must not touch the network.
    :returns: partial :class:`ModelInfo` objects (``provenance`` set per field), or ``None``.

    **Collected**, routed (the owner plus plugins that own no provider). The registry merges
    them under the provider API's own fields.
    """


@hookspec
def count_tokens(request: TokenCountRequest, settings: ProviderSettings) -> TokenCount | None:  # type: ignore[empty-body]
    """Count the input tokens of ``request.messages`` (+ tools) for ``request.model``.

    :param settings: the resolved credentials and endpoint of the model's provider (the same
        the host would hand ``complete``; ``api_key`` may be ``None`` when none is configured).

    Use a provider count endpoint only when ``request.allow_network`` is true. Return ``None``
    for models this plugin cannot count. **First result**, routed to the owner of the model's
    provider; the built-in fallback (tiktoken, or a calibrated estimate when the encoding files
    are missing) answers last.
    """


@hookspec
def detect_overflow(
    error: BaseException, provider: str | None, model: str | None
) -> Overflow | None:  # type: ignore[empty-body]
    """Decide whether ``error`` (what the SDK raised, or an in-stream error event) means the
    request exceeded the model's context window.

    Classify structurally first (exception class, status, error code/type, body), message text
    second. Rate limits, quota, output-cap (``max_tokens`` too large) and payload-size errors are
    **not** overflow: return ``None`` for them. **First result**, routed to the owner of
    ``provider`` (with an unknown provider, only plugins that own none are asked); the built-in
    generic patterns answer last.
    """


@hookspec
def overflow_patterns() -> list[OverflowPattern] | None:  # type: ignore[empty-body]
    """Add message wordings to overflow detection without copying the built-in ones.

    Return :class:`~massgen_plugins.overflow_patterns.OverflowPattern` objects (a regular
    expression, a tier -- ``strong`` overflow, ``not_overflow``, or ``weak`` overflow -- and named
    groups ``limit``/``requested``/``input``/``output``/``over`` for the token counts). **Collected**:
    every plugin's patterns are tried before the built-in ones of the same tier, by the built-in
    detector and by the provider plugins' detectors alike.
    """


@hookspec
def tool_actions() -> list[ToolAction] | None:  # type: ignore[empty-body]
    """Tell compression what your agent's tools do when their names and arguments do not say it.

    Return :class:`~massgen_plugins.compression.toolcalls.ToolAction` objects (a tool name, a kind --
    ``edit``, ``create``, ``delete``, ``open``, ``submit``, ``shell``, ``record``, ``read`` -- and
    the argument naming the file or holding the answer or command). They steer each task's ledger
    (the files it changed, the records it changed, the answers it submitted), which an offline
    extract keeps first and the truncate note and summarizer carry. **Collected** once per host:
    looked up by tool name (case-insensitive) before the built-in reading; the first declaration
    of a name wins.
    """


@hookspec
def classify_error(error: BaseException, provider: str | None) -> ErrorInfo | None:  # type: ignore[empty-body]
    """Classify any provider error for the retry loop: its kind, whether a retry can help, and
    the delay the provider asked for (``retry-after``, ``retry-after-ms``, ``RetryInfo``).

    **First result**, routed like ``detect_overflow``; return ``None`` for errors you do not
    recognise. The built-in classifier (HTTP status, httpx/asyncio exceptions) answers last.
    """


@hookspec
def compress(
    request: CompressionRequest,
) -> CompressionResult | Awaitable[CompressionResult | None] | None:  # type: ignore[empty-body]
    """One stage of the compression chain: shrink ``request.messages`` toward ``request.budget``.

    **Chained**: the host calls stages in order, feeding each the previous stage's output, and
    stops as soon as the conversation fits. Routed: a provider plugin's stage sees only its own
    provider's conversations; a plugin that owns no provider sees every conversation. Return ``None`` when the stage cannot help (or does not
    apply to this model/strategy); raise when it fails (provider down): the host records the reason
    and moves on. A result must keep the system prompt and the latest user turn verbatim, never
    separate a tool call from its result, and list every removed or replaced message in
    ``archived``. May return an awaitable.
    """


@hookspec
def complete(
    request: CompletionRequest, settings: ProviderSettings
) -> Awaitable[CompletionResponse] | None:  # type: ignore[empty-body]
    """Start one non-streaming call to the model ``request.model``.

    Return an **awaitable** (call your ``async def`` helper without awaiting it) that resolves to
    a :class:`CompletionResponse` and raises the SDK's own exception on failure. SDK retries must
    be off: the host owns the one retry loop. **First result**, routed: only the owner of
    ``request.provider`` is called.

    Declaring the implementation ``async def`` (returning the response) is the faster form: the
    host awaits it on the event loop under the request's timeout, whereas a plain function first
    runs on a worker thread under the ``complete`` deadline (so one that blocks cannot freeze the
    loop). Keep blocking work out of an ``async def`` one.
    """


@hookspec
def stream(
    request: CompletionRequest, settings: ProviderSettings
) -> AsyncIterator[StreamEvent] | None:  # type: ignore[empty-body]
    """Start one streaming call: return an async iterator of :class:`StreamEvent` ending with a
    ``done`` event. In-stream errors are raised as the SDK raises them (or yielded as an
    ``error`` event when the SDK yields them). **First result**, routed: only the owner of
    ``request.provider`` is called.
    """


@hookspec
def memory_store(url: str) -> MemoryStore | None:  # type: ignore[empty-body]
    """Open the memory store at ``url`` (``sqlite:///path``, ``postgresql://...``).

    Return ``None`` for URL schemes you do not handle. **First result.**
    """


@hookspec
def embed(texts: list[str], model: str | None) -> list[list[float]] | None:  # type: ignore[empty-body]
    """Embed ``texts`` for optional vector retrieval in memory search.

    Return one vector per text, all of one length, of finite numbers, or ``None`` if you
    provide no embeddings (the default: memory search then uses full-text BM25 and recency
    only). A result of the wrong shape is rejected and the next plugin asked. **First result.**

    *Experimental*: no bundled plugin implements it yet; the contract may gain arguments.
    """


@hookspec
def analyze_logs(
    request: AnalysisRequest,
) -> AnalysisResult | Awaitable[AnalysisResult | None] | None:  # type: ignore[empty-body]
    """Analyze one run's events and return a summary, findings and optionally a Markdown report.

    **Collected**: every analyzer's result is shown; a failing analyzer is reported, not fatal.
    ``request.model`` is set when the user asked for an LLM self-analysis. May return an
    awaitable.
    """
