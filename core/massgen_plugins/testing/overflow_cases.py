"""A table of real provider error bodies — context overflows and their near-misses — and a driver
that raises each one through the provider's official SDK against the emulator.

The bodies are verbatim from provider docs and issue pastes or the emulator's
own enforced-window errors, which use the same wordings. Each :class:`OverflowCase` says what a
correct detector must answer: an overflow (with the stated ``limit``/``requested`` token counts)
or *not* an overflow (rate limits, quotas, output caps, payload size, overload).

Used by ``tests/test_overflow_detection.py`` and ``bench/overflow_detection.py``; third-party
plugin authors can run their own ``detect_overflow`` over the same table::

    from massgen_plugins.testing import Emulator
    from massgen_plugins.testing.overflow_cases import CASES, trigger

    with Emulator() as emu:
        for case in CASES:
            error = trigger(case, emu)       # the exception (or stream event) the SDK produced
            ...                              # classify it and compare with case.overflow

The SDKs are imported inside :func:`trigger` only (this module is data plus a driver).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .spec import Fault

#: ``requested`` value meaning "stated, and larger than the limit" (natural emulator overflows,
#: whose exact count depends on the tokenizer).
ABOVE_LIMIT = -1


@dataclass(frozen=True)
class OverflowCase:
    """One error to raise and the verdict a detector must reach."""

    id: str
    provider: str
    model: str
    api: str  # chat | responses | messages | generate
    overflow: bool
    limit: int | None = None
    requested: int | None = None
    stream: bool = False
    big_input: int = 0  # words of input (natural overflow against the model's window)
    max_output: int | None = None
    fault: dict[str, Any] | None = None  # Fault(**fault) injected for this call
    source: str = ""
    note: str = field(default="", compare=False)

    @property
    def model_ref(self) -> str:
        """``provider/model`` for :func:`massgen_plugins.detect_overflow`."""
        return f"{self.provider}/{self.model}"


def _custom(status: int, body: Any, **extra: Any) -> dict[str, Any]:
    return {"kind": "custom", "status": status, "body": body, **extra}


def _oa(message: str, type_: str | None, param: str | None, code: Any) -> dict[str, Any]:
    return {"error": {"message": message, "type": type_, "param": param, "code": code}}


def _an(type_: str, message: str) -> dict[str, Any]:
    return {"type": "error", "error": {"type": type_, "message": message}, "request_id": "req_011CVQe1dLrGNMJyE1ghG1av"}


def _gm(code: int, status: str, message: str, **extra: Any) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "status": status, **extra}}


_OA_CHAT = ("This model's maximum context length is 8192 tokens. However, your messages resulted in 8227 tokens. "
            "Please reduce the length of the messages.")
_OA_CHAT_COMPLETION = ("This model's maximum context length is 4097 tokens. However, you requested 4120 tokens "
                       "(3120 in the messages, 1000 in the completion). Please reduce the length of the messages or "
                       "completion.")
_OA_GPT5 = ("Input tokens exceed the configured limit of 272000 tokens. Your messages resulted in 477469 tokens. "
            "Please reduce the length of the messages.")
_OA_RESP = "Your input exceeds the context window of this model. Please adjust your input and try again."
_AN_LONG = "prompt is too long: 208310 tokens > 200000 maximum"
_AN_LIMIT = ("input length and `max_tokens` exceed context limit: 199759 + 8192 > 200000, decrease input length or "
             "`max_tokens` and try again")
_GM = "The input token count (1200293) exceeds the maximum number of tokens allowed (1048576)."
_GM_NOCOUNT = "The input token count exceeds the maximum number of tokens allowed (1048576)."
_XAI = "This model's maximum prompt length is 131072 but the request contains 149617 tokens."
_XAI_GRPC = ("Failed to start sampling: [input_too_large] Current message (1149677 tokens) exceeds budget "
             "(975424 tokens)")
_OR = ("This endpoint's maximum context length is 16384 tokens. However, you requested about 26265 tokens (26255 of "
       "text input, 10 in the output). Please reduce the length of either one, or use the context-compression plugin "
       "to compress your prompt automatically.")
_OR_OLD = ("This endpoint's maximum context length is 16384 tokens. However, you requested about 26265 tokens (26255 "
           "of text input, 10 in the output). Please reduce the length of either one, or use the \"middle-out\" "
           "transform to compress your prompt automatically.")
_NEBIUS = ("This model's maximum context length is 131072 tokens. However, you requested 140000 tokens (139000 in "
           "the messages, 1000 in the completion). Please reduce the length of the messages or completion.")

OVERFLOWS: list[OverflowCase] = [
    # -- OpenAI -------------------------------------------------------------------------------------
    OverflowCase("openai-chat-messages", "openai", "gpt-4", "chat", True, 8192, 8227,
                 fault=_custom(400, _oa(_OA_CHAT, "invalid_request_error", "messages", "context_length_exceeded")),
                 source="§3.1 OpenAI chat"),
    OverflowCase("openai-chat-completion", "openai", "gpt-4", "chat", True, 4097, 4120,
                 fault=_custom(400, _oa(_OA_CHAT_COMPLETION, "invalid_request_error", "messages",
                                        "context_length_exceeded")), source="§3.1 OpenAI chat variant"),
    OverflowCase("openai-gpt5-configured-limit", "openai", "gpt-5", "chat", True, 272000, 477469,
                 fault=_custom(400, _oa(_OA_GPT5, "invalid_request_error", "messages", "context_length_exceeded")),
                 source="§3.1 OpenAI GPT-5"),
    OverflowCase("openai-chat-natural", "openai", "gpt-test-2k", "chat", True, 2048, ABOVE_LIMIT, big_input=3000,
                 source="emulator window"),
    OverflowCase("openai-chat-natural-with-output", "openai", "gpt-test-2k", "chat", True, 2048, ABOVE_LIMIT,
                 big_input=1800, max_output=500, source="emulator window"),
    OverflowCase("openai-responses-400", "openai", "gpt-4o", "responses", True,
                 fault=_custom(400, _oa(_OA_RESP, "invalid_request_error", "input", "context_length_exceeded")),
                 source="§3.1 Responses"),
    OverflowCase("openai-responses-natural", "openai", "gpt-test-2k", "responses", True, big_input=3000,
                 source="emulator window"),
    OverflowCase("openai-responses-stream-nested", "openai", "gpt-test-2k", "responses", True, stream=True,
                 big_input=3000, source="§3.1 Responses in-stream (Dyad paste)"),
    OverflowCase("openai-responses-stream-flat", "openai", "gpt-4o", "responses", True, stream=True,
                 fault={"kind": "stream_error", "error_type": "overflow", "form": "flat"},
                 source="§3.2 flat error event (yielded)"),
    OverflowCase("openai-responses-stream-failed", "openai", "gpt-4o", "responses", True, stream=True,
                 fault={"kind": "stream_error", "error_type": "overflow", "form": "failed"},
                 source="§3.1 response.failed"),
    # -- Anthropic ------------------------------------------------------------------------------------
    OverflowCase("anthropic-prompt-too-long", "anthropic", "claude-haiku-4-5", "messages", True, 200000, 208310,
                 fault=_custom(400, _an("invalid_request_error", _AN_LONG)), source="§3.1 Anthropic"),
    OverflowCase("anthropic-exceed-context-limit", "anthropic", "claude-haiku-4-5", "messages", True, 200000, 207951,
                 fault=_custom(400, _an("invalid_request_error", _AN_LIMIT)), source="§3.1 Anthropic"),
    OverflowCase("anthropic-natural", "anthropic", "claude-tiny-2k", "messages", True, 2048, ABOVE_LIMIT,
                 big_input=3000, source="emulator window"),
    OverflowCase("anthropic-in-stream", "anthropic", "claude-tiny-2k", "messages", True, 2048, ABOVE_LIMIT,
                 stream=True, big_input=3000, source="§3.2 Anthropic event: error"),
    # -- Gemini ---------------------------------------------------------------------------------------
    OverflowCase("gemini-input-token-count", "gemini", "gemini-2.5-pro", "generate", True, 1048576, 1200293,
                 fault=_custom(400, _gm(400, "INVALID_ARGUMENT", _GM)), source="§3.1 Gemini"),
    OverflowCase("gemini-no-count", "gemini", "gemini-2.5-flash", "generate", True, 1048576, None,
                 fault=_custom(400, _gm(400, "INVALID_ARGUMENT", _GM_NOCOUNT)), source="§3.1 Gemini 2.5-flash"),
    OverflowCase("gemini-with-errors-list", "gemini", "gemini-2.5-pro", "generate", True, 1048576, 1200293,
                 fault=_custom(400, _gm(400, "INVALID_ARGUMENT", _GM, errors=[
                     {"message": _GM, "domain": "global", "reason": "badRequest"}])), source="§3.1 Gemini front-end"),
    OverflowCase("gemini-natural", "gemini", "gemini-tiny-2k", "generate", True, 2048, ABOVE_LIMIT, big_input=3000,
                 source="emulator window"),
    OverflowCase("gemini-in-stream", "gemini", "gemini-2.5-flash", "generate", True, stream=True,
                 limit=1048576, requested=ABOVE_LIMIT,
                 fault={"kind": "stream_error", "error_type": "overflow"}, source="SSE data: {error}"),
    # -- Groq -----------------------------------------------------------------------------------------
    OverflowCase("groq-reduce-length", "groq", "llama-3.3-70b-versatile", "chat", True,
                 fault=_custom(400, _oa("Please reduce the length of the messages or completion.",
                                        "invalid_request_error", "messages", "context_length_exceeded")),
                 source="§3.1 Groq"),
    OverflowCase("groq-natural", "groq", "llama-tiny-8k", "chat", True, big_input=9000, source="emulator window"),
    # -- xAI ------------------------------------------------------------------------------------------
    OverflowCase("xai-max-prompt-length", "xai", "grok-3", "chat", True, 131072, 149617,
                 fault=_custom(400, {"code": "Client specified an invalid argument", "error": _XAI}),
                 source="§3.1 xAI REST"),
    OverflowCase("xai-input-too-large", "xai", "grok-4-0709", "chat", True, 975424, 1149677,
                 fault=_custom(400, {"code": "Client specified an invalid argument", "error": _XAI_GRPC}),
                 source="§3.1 xAI 2026 wording"),
    OverflowCase("xai-natural", "xai", "grok-tiny-8k", "chat", True, 8192, ABOVE_LIMIT, big_input=9000,
                 source="emulator window"),
    # -- OpenRouter -----------------------------------------------------------------------------------
    OverflowCase("openrouter-context-compression", "openrouter", "openai/gpt-4o", "chat", True, 16384, 26265,
                 fault=_custom(400, {"error": {"message": _OR, "code": 400, "metadata": {"provider_name": None}}}),
                 source="§3.1 OpenRouter"),
    OverflowCase("openrouter-middle-out", "openrouter", "openai/gpt-4o", "chat", True, 16384, 26265,
                 fault=_custom(400, {"error": {"message": _OR_OLD, "code": 400}}), source="§3.1 OpenRouter (old)"),
    OverflowCase("openrouter-passes-anthropic", "openrouter", "anthropic/claude-sonnet-4.5", "chat", True, 200000,
                 207951, fault=_custom(400, {"error": {"message": _AN_LIMIT, "code": 400,
                                                       "metadata": {"provider_name": "Anthropic"}}}),
                 source="§3.1 OpenRouter upstream wording"),
    OverflowCase("openrouter-http200-stream", "openrouter", "emulator/tiny-8k", "chat", True, 8192, ABOVE_LIMIT,
                 stream=True, big_input=9000, source="§3.1 OpenRouter HTTP-200 mid-stream"),
    # -- Nebius ---------------------------------------------------------------------------------------
    OverflowCase("nebius-vllm", "nebius", "meta-llama/Llama-3.3-70B-Instruct", "chat", True, 131072, 140000,
                 fault=_custom(400, {"error": {"message": _NEBIUS, "type": "BadRequestError", "param": None,
                                               "code": 400}}), source="§3.1 Nebius (vLLM wording)"),
    OverflowCase("nebius-natural", "nebius", "emulator/tiny-8k", "chat", True, 8192, ABOVE_LIMIT, big_input=9000,
                 source="emulator window"),
]

_OA_TPM = ("Rate limit reached for gpt-4 in organization org-abc123 on tokens per min (TPM): Limit 10000, Used 9348, "
           "Requested 5086. Please try again in 26.604s. Visit https://platform.openai.com/account/rate-limits to "
           "learn more.")
_GROQ_TPM = ("Rate limit reached for model `llama3-70b-8192` in organization `org_01abc` on tokens per minute (TPM): "
             "Limit 7000, Used 0, Requested ~12903. Please try again in 50.597142857s. Visit "
             "https://console.groq.com/docs/rate-limits for more information.")
_GROQ_413 = ("Request too large for model `llama-3.1-8b-instant` in organization `org_01abc` service tier `on_demand` "
             "on tokens per minute (TPM): Limit 6000, Requested 6294, please reduce your message size and try again. "
             "Need more tokens? Upgrade to Dev Tier today at https://console.groq.com/settings/billing")
_XAI_TPM = ("Too many tokens for team 1234 and model grok-4-0709. Your team's rate limit is — Tokens per Minute "
            "(actual/limit): 65605/16000. Please reduce your request rate or contact support.")

NEAR_MISSES: list[OverflowCase] = [
    # -- OpenAI -------------------------------------------------------------------------------------
    OverflowCase("openai-429-tpm", "openai", "gpt-4", "chat", False,
                 fault=_custom(429, _oa(_OA_TPM, "tokens", None, "rate_limit_exceeded")), source="§3.3 OpenAI 429"),
    OverflowCase("openai-429-fault", "openai", "gpt-4o", "chat", False, fault={"kind": "rate_limit"}),
    OverflowCase("openai-quota", "openai", "gpt-4o", "chat", False, fault={"kind": "quota"}, source="§3.3 quota"),
    OverflowCase("openai-output-cap", "openai", "gpt-4o", "chat", False, max_output=20000, source="emulator cap"),
    OverflowCase("openai-responses-output-cap", "openai", "gpt-4o", "responses", False, max_output=50000),
    OverflowCase("openai-413", "openai", "gpt-4o", "chat", False, fault={"kind": "payload_too_large"}),
    OverflowCase("openai-500", "openai", "gpt-4o", "chat", False, fault={"kind": "server_error"}),
    OverflowCase("openai-503-overloaded", "openai", "gpt-4o", "chat", False, fault={"kind": "overloaded"}),
    OverflowCase("openai-responses-stream-server-error", "openai", "gpt-4o", "responses", False, stream=True,
                 fault={"kind": "stream_error", "error_type": "server_error"}),
    # -- Anthropic ------------------------------------------------------------------------------------
    OverflowCase("anthropic-429", "anthropic", "claude-haiku-4-5", "messages", False, fault={"kind": "rate_limit"},
                 source="§3.3 Anthropic 429 (mentions prompt length and max tokens)"),
    OverflowCase("anthropic-529", "anthropic", "claude-haiku-4-5", "messages", False, fault={"kind": "overloaded"},
                 source="§3.3 Anthropic 529"),
    OverflowCase("anthropic-413", "anthropic", "claude-haiku-4-5", "messages", False,
                 fault={"kind": "payload_too_large"}, source="§3.1 Anthropic 413"),
    OverflowCase("anthropic-output-cap", "anthropic", "claude-tiny-8k", "messages", False, max_output=5000,
                 source="max_tokens above the model cap"),
    OverflowCase("anthropic-credit-balance", "anthropic", "claude-haiku-4-5", "messages", False,
                 fault={"kind": "quota"}),
    OverflowCase("anthropic-in-stream-overloaded", "anthropic", "claude-haiku-4-5", "messages", False, stream=True,
                 fault={"kind": "stream_error", "error_type": "overloaded"}, source="§3.3 mid-stream overload"),
    # -- Gemini ---------------------------------------------------------------------------------------
    OverflowCase("gemini-429-rate", "gemini", "gemini-2.5-flash", "generate", False, fault={"kind": "rate_limit"},
                 source="§3.3 Gemini 429"),
    OverflowCase("gemini-429-quota", "gemini", "gemini-2.5-flash", "generate", False, fault={"kind": "quota"}),
    OverflowCase("gemini-output-cap", "gemini", "gemini-tiny-8k", "generate", False, max_output=9000),
    OverflowCase("gemini-payload-size", "gemini", "gemini-2.5-flash", "generate", False,
                 fault={"kind": "payload_too_large"}, source="400 Request payload size exceeds the limit"),
    OverflowCase("gemini-503", "gemini", "gemini-2.5-flash", "generate", False, fault={"kind": "overloaded"}),
    # -- Groq -----------------------------------------------------------------------------------------
    OverflowCase("groq-429-tpm", "groq", "llama-3.3-70b-versatile", "chat", False,
                 fault=_custom(429, {"error": {"message": _GROQ_TPM, "type": "tokens", "code": "rate_limit_exceeded"}}),
                 source="§3.3 Groq 429"),
    OverflowCase("groq-413-tpm", "groq", "llama-3.1-8b-instant", "chat", False,
                 fault=_custom(413, {"error": {"message": _GROQ_413, "type": "tokens", "code": "rate_limit_exceeded"}}),
                 source="§3.3 Groq request too large (TPM)"),
    OverflowCase("groq-output-cap", "groq", "llama-tiny-8k", "chat", False, max_output=4000,
                 source="§3.1 Groq parameter validation"),
    # -- xAI ------------------------------------------------------------------------------------------
    OverflowCase("xai-429-tpm", "xai", "grok-4-0709", "chat", False,
                 fault=_custom(429, {"code": "Some resource has been exhausted", "error": _XAI_TPM}),
                 source="§3.3 xAI 429"),
    OverflowCase("xai-output-cap", "xai", "grok-tiny-8k", "chat", False, max_output=4000),
    # -- OpenRouter -----------------------------------------------------------------------------------
    OverflowCase("openrouter-402-credits", "openrouter", "openai/gpt-4o", "chat", False, fault={"kind": "quota"},
                 source="402: 'requires more credits, or fewer max_tokens'"),
    OverflowCase("openrouter-429", "openrouter", "openai/gpt-4o", "chat", False, fault={"kind": "rate_limit"}),
    OverflowCase("openrouter-502", "openrouter", "openai/gpt-4o", "chat", False, fault={"kind": "overloaded"}),
    OverflowCase("openrouter-stream-overloaded", "openrouter", "openai/gpt-4o", "chat", False, stream=True,
                 fault={"kind": "stream_error", "error_type": "overloaded"}),
    # -- Nebius ---------------------------------------------------------------------------------------
    OverflowCase("nebius-429", "nebius", "emulator/tiny-8k", "chat", False, fault={"kind": "rate_limit"}),
    OverflowCase("nebius-output-cap", "nebius", "emulator/tiny-8k", "chat", False, max_output=4000),
]

CASES: list[OverflowCase] = OVERFLOWS + NEAR_MISSES


def _messages(case: OverflowCase) -> str:
    return ("word " * case.big_input) if case.big_input else "hello"


def trigger(case: OverflowCase, emu: Any) -> Any:
    """Inject the case's fault, make the call through the provider's official SDK (no retries) and
    return what the SDK produced: the raised exception, or for errors the SDK yields instead of
    raising, the stream event. Returns ``None`` when the call succeeded."""
    if case.fault is not None:
        emu.inject(Fault(provider=case.provider, **case.fault))
    if case.provider == "anthropic":
        return _anthropic(case, emu)
    if case.provider == "gemini":
        return _gemini(case, emu)
    if case.provider == "groq":
        return _groq(case, emu)
    return _openai(case, emu)


def _openai(case: OverflowCase, emu: Any) -> Any:
    import openai

    client = openai.OpenAI(base_url=emu.base_url(case.provider), api_key=f"test-{case.provider}-key", max_retries=0,
                           timeout=30)
    text = _messages(case)
    try:
        if case.api == "responses":
            kwargs: dict[str, Any] = {"model": case.model, "input": text}
            if case.max_output is not None:
                kwargs["max_output_tokens"] = case.max_output
            if not case.stream:
                client.responses.create(**kwargs)
                return None
            for event in client.responses.create(stream=True, **kwargs):
                if event.type in ("error", "response.failed"):
                    return event
            return None
        kwargs = {"model": case.model, "messages": [{"role": "user", "content": text}]}
        if case.max_output is not None:
            kwargs["max_tokens"] = case.max_output
        if case.stream:
            for _ in client.chat.completions.create(stream=True, **kwargs):
                pass
        else:
            client.chat.completions.create(**kwargs)
    except openai.APIError as exc:
        return exc
    return None


def _anthropic(case: OverflowCase, emu: Any) -> Any:
    import anthropic

    client = anthropic.Anthropic(base_url=emu.base_url("anthropic"), api_key="test-anthropic-key", max_retries=0,
                                 timeout=30)
    kwargs: dict[str, Any] = {"model": case.model, "max_tokens": case.max_output or 100,
              "messages": [{"role": "user", "content": _messages(case)}]}
    try:
        if case.stream:
            for _ in client.messages.create(stream=True, **kwargs):
                pass
        else:
            client.messages.create(**kwargs)
    except anthropic.APIError as exc:
        return exc
    return None


def _groq(case: OverflowCase, emu: Any) -> Any:
    import groq

    client = groq.Groq(base_url=emu.base_url("groq"), api_key="test-groq-key", max_retries=0, timeout=30)
    kwargs: dict[str, Any] = {"model": case.model, "messages": [{"role": "user", "content": _messages(case)}]}
    if case.max_output is not None:
        kwargs["max_completion_tokens"] = case.max_output
    try:
        if case.stream:
            for _ in client.chat.completions.create(stream=True, **kwargs):
                pass
        else:
            client.chat.completions.create(**kwargs)
    except groq.APIError as exc:
        return exc
    return None


def _gemini(case: OverflowCase, emu: Any) -> Any:
    from google import genai
    from google.genai import errors, types

    client = genai.Client(api_key="test-gemini-key",
                          http_options=types.HttpOptions(base_url=emu.base_url("gemini"), api_version="v1beta",
                                                         timeout=30_000))
    config = types.GenerateContentConfig(max_output_tokens=case.max_output) if case.max_output else None
    try:
        if case.stream:
            for _ in client.models.generate_content_stream(model=case.model, contents=_messages(case), config=config):
                pass
        else:
            client.models.generate_content(model=case.model, contents=_messages(case), config=config)
    except errors.APIError as exc:
        return exc
    return None
