"""Message-text rules for context overflow, with the token counts each wording states.

Read *after* the structural checks (status, error code/type, body fields) by the built-in
detector and by every provider plugin. The rules come in three tiers, tried in this order:

1. **strong** overflow wordings -- sentences that can only mean "the prompt did not fit the
   window" ("This model's maximum context length is 8192 tokens", "prompt is too long: 208310
   tokens > 200000 maximum", TGI's "`inputs` tokens + `max_new_tokens` must be <= 2048", vLLM's
   "max_tokens must be at least 1, got -160", llama.cpp's "exceeds the available context size");
2. **not overflow** -- rate limits (incl. "Request too large ... tokens per minute", Bedrock's
   "Too many tokens, please wait"), quota and credit errors, output caps ("max_tokens is too
   large"), payload-size limits, overload and auth errors: a match here ends the search;
3. **weak** overflow wordings -- generic phrases ("too many tokens", "reduce the length of the
   messages", "token limit exceeded") that are overflow only when nothing above said otherwise.

Each rule is an :class:`OverflowPattern`: a regular expression whose named groups give the counts
(``limit``; ``requested``, or ``input`` + ``output``, or ``over`` = tokens above ``limit``).

**Plugins add patterns without copying these**: implement the ``overflow_patterns`` hook and
return a list of :class:`OverflowPattern`; they are tried before the built-in rules of the same
tier, by the built-in detector and by every provider plugin that uses :func:`match_overflow`::

    from massgen_plugins import hookimpl
    from massgen_plugins.overflow_patterns import OverflowPattern

    @hookimpl
    def overflow_patterns():
        return [OverflowPattern(name="acme", pattern=r"acme window of (?P<limit>[\\d,]+) exceeded")]
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

Counts = tuple[int | None, int | None]
Tier = Literal["strong", "not_overflow", "weak"]

#: The longest text a rule ever scans: the head and the tail of a longer text are kept (a 50 MB
#: error body must not stall the event loop; every wording sits in the first or last lines).
SCAN_HEAD = 32_768
SCAN_TAIL = 8_192

@dataclass(frozen=True)
class OverflowPattern:
    """One wording: ``pattern`` (a regular expression, case-insensitive, ``.`` matches newlines)
    and its ``tier``: ``strong`` (overflow, whatever else the text says), ``not_overflow`` (ends
    the search: rate limits, quotas, output caps ...) or ``weak`` (overflow if nothing said
    otherwise). Named groups ``limit``, ``requested``, ``input``, ``output`` and ``over`` (tokens
    above the limit) give the counts."""

    name: str
    pattern: str
    tier: Tier = "strong"
    compiled: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.tier not in ("strong", "not_overflow", "weak"):
            raise ValueError(f"overflow pattern {self.name!r}: tier must be strong, not_overflow or weak, "
                             f"not {self.tier!r}")
        try:
            compiled = re.compile(self.pattern, re.I | re.S)
        except re.error as exc:
            raise ValueError(f"overflow pattern {self.name!r} is not a valid regular expression: {exc}") from None
        object.__setattr__(self, "compiled", compiled)

    def counts(self, found: re.Match[str]) -> Counts:
        """``(limit, requested)`` from the named groups of a match."""
        groups = found.groupdict()

        def num(name: str) -> int | None:
            value = groups.get(name)
            return int(value.replace(",", "")) if value else None

        limit, requested = num("limit"), num("requested")
        if requested is None and num("input") is not None:
            requested = (num("input") or 0) + (num("output") or 0)
        if requested is None and num("over") is not None and limit is not None:
            requested = limit + (num("over") or 0)
        return limit, requested


def _p(name: str, pattern: str, tier: Tier = "strong") -> OverflowPattern:
    """A built-in rule; a space matches any run of whitespace (pasted errors are re-wrapped)."""
    return OverflowPattern(name=name, pattern=pattern.replace(" ", r"\s+"), tier=tier)


def _counted(name: str, pattern: str, tier: Tier = "strong") -> OverflowPattern:
    """A built-in rule whose ``<limit>``-style placeholders become named number groups."""
    for group in ("limit", "requested", "input", "output", "over"):
        pattern = pattern.replace(f"<{group}>", rf"(?P<{group}>\d[\d,]*)")
    return _p(name, pattern, tier)


BUILTIN: tuple[OverflowPattern, ...] = (
    # ---- strong: wordings that state the window (most specific first, for their counts) ----
    _counted("vllm max_tokens too large for window",  # vLLM >= 0.10
             r"is too large: <output>\. This model's maximum context length is <limit> tokens "
             r"and your request has <input> input tokens"),
    _counted("maximum context length",  # OpenAI, Azure, vLLM, DeepSeek, OpenRouter, FastChat, SambaNova
             r"maximum context length (?:is|of)(?: [\w./:-]{1,80} is)? <limit>(?: tokens)?(?:.{0,120}?(?:resulted in"
             r"|requested(?: about| up to)?|your request has|will take) <requested>(?: input)? tokens)?"),
    _counted("configured limit", r"input tokens exceed the configured limit of <limit> tokens"
                                 r"(?:.{0,80}?resulted in <requested> tokens)?"),
    _counted("prompt too long with counts", r"prompt is too long:\s*<requested> tokens\s*>\s*<limit>"),
    _counted("fireworks prompt too long", r"prompt is too long:\s*<requested>, model maximum context length:\s*<limit>"),
    _counted("exceed context limit", r"exceeds? context limit:\s*<input>\s*\+\s*<output>\s*>\s*<limit>"),
    _counted("gemini input token count",
             r"input token count(?:\s*\(<requested>\))? exceeds the maximum number of tokens allowed"
             r"(?:\s*\(?<limit>\)?)?"),
    _counted("xai maximum prompt length", r"maximum prompt length is <limit>(?: but the request contains "
                                          r"<requested> tokens)?"),
    _counted("xai input_too_large", r"\[input_too_large\](?:.{0,80}?\(<requested> tokens\) exceeds budget "
                                    r"\(<limit> tokens\))?"),
    _counted("tgi inputs + max_new_tokens", r"`inputs` tokens \+ `max_new_tokens` must be <= <limit>"
                                            r"(?:\.\s*Given: <input> `inputs` tokens and <output> `max_new_tokens`)?"),
    _counted("vllm negative max_tokens", r"max_tokens must be at least 1, got -<over>"),
    _counted("vllm input prompt too long", r"input prompt \(<requested> tokens\) is too long and exceeds limit of "
                                           r"<limit>"),
    _counted("sglang longer than context", r"input \(<requested> tokens\) is longer than the model'?s context "
                                           r"length \(<limit> tokens\)"),
    _counted("input length exceeds maximum",  # SGLang, DeepInfra, Poolside
             r"input length \(?<requested>(?: tokens)?\)? exceeds (?:the )?maximum (?:allowed )?(?:input )?length"
             r"(?: (?:of )?\(?<limit>)?"),
    _counted("vllm prompt too long to fit", r"prompt \(total length <requested>\) is too long to fit into the model "
                                            r"\(context length <limit>\)"),
    _counted("vllm longer than maximum model length", r"prompt \(length <requested>\) is longer than the maximum "
                                                      r"model length of <limit>"),
    _counted("tgi inputs must have less than", r"`inputs` must have less than <limit> tokens\.\s*Given: <requested>"),
    _counted("model max length exceeded", r"model max length exceeded(?:,? max length:\s*<limit>)?"),
    _counted("request too large for model in tokens", r"request body too large for model\.? max size: <limit> tokens"),
    _counted("llama.cpp request exceeds context", r"request \(<requested> tokens\) exceeds the available context "
                                                  r"size \(<limit> tokens\)"),
    _counted("input length exceeds context length", r"input length <requested> exceeds context length <limit>"),
    _counted("ollama runner log", r"input exceeds context length\"?\s+prompt=<requested>\s+limit=<limit>"),
    _counted("llama-cpp-python", r"requested tokens(?: \(<requested>\))? exceed context window of <limit>"),
    _counted("ctransformers", r"number of tokens \(<requested>\) exceeded maximum context length \(<limit>\)"),
    _counted("cohere total tokens", r"too many tokens: total number of tokens \(prompt and prediction\) cannot "
                                    r"exceed <limit> - received <requested>"),
    _counted("cohere size limit", r"too many tokens: (?:.{0,60}?)size limit exceeded by <over> tokens"
                                  r"(?:.{0,120}?limit for this model is <limit> tokens)?"),
    _counted("cerebras current length", r"current length is <requested> while limit is <limit>"),
    _counted("lm studio keep first", r"trying to keep the first <requested> tokens when context the overflows"
                                     r"(?:.{0,80}?context length of only <limit> tokens)?"),
    _counted("lm studio reached context", r"reached context length of <limit> tokens"),
    _counted("mistral too large for model", r"prompt contains <requested> tokens(?: and \d+ draft tokens)?, too "
                                            r"large for model with <limit> maximum context length"),
    _counted("token limit with requested", r"exceeded model token limit: <limit> \(requested: <requested>\)"),
    _counted("configured context size", r"prompt has <requested> tokens?, but the configured context size is "
                                        r"<limit> tokens?"),
    _counted("prompt token count exceeds", r"prompt token count of <requested> exceeds the limit of <limit>"),
    _counted("ollama prompt too long", r"prompt too long; exceeded (?:max )?context length(?: by <over> tokens)?"),
    _counted("dashscope input range", r"range of input length should be \[1, <limit>\]"),
    _p("prompt is too long", r"\bprompt is too long\b"),
    _p("exceeds the context", r"exceed(?:s|ed)? (?:the |this |your |model(?:'s)? )?(?:available |maximum |model(?:'s)? )?"
                              r"context(?: window| length| size| limit)\b"),
    _p("context exceeded", r"context[_ ](?:length|window|size)[_ ](?:exceeded|has been exceeded)"
                           r"|context size has been exceeded|context window exceeds limit"),
    _p("input is too long for requested model", r"input is too long for (?:the )?requested model"),
    _p("input tokens exceeded", r"input tokens exceeded|number of input tokens exceeds maximum length"),
    _p("keep from initial prompt", r"tokens to keep from the initial prompt is greater than the context length"),
    _p("longer than the context", r"(?:longer|greater|larger) than the (?:model'?s )?(?:maximum )?(?:context (?:length|"
                                  r"window|size)|maximum model length)|too long to fit into the model"),
    _p("input context too long", r"input context is too long"),
    # ---- not overflow: checked after the strong wordings, before the weak ones ----
    _p("rate limit", r"rate[ _-]?limit|too many requests|throttl|please wait before trying again"
                     r"|tokens per (?:min|minute|day|hour)\b|requests per (?:min|minute|day)\b|\((?:TPM|RPM|TPD|RPD)\)"
                     r"|per (?:minute|day) \(|input tokens per minute|try again later|retry shortly", "not_overflow"),
    _p("quota or credits", r"quota|billing|\bcredits?\b|insufficient[_ ](?:balance|funds|quota)|can only afford"
                           r"|payment method|spending limit|monthly limit|budget has been exceeded", "not_overflow"),
    _p("output cap", r"max_(?:completion_|output_|new_)?tokens['`\"]?(?: or '?max_completion_tokens'?)? "
                     r"(?:is too large|must be (?:less than|<=)|exceeds)"
                     r"|maximum allowed number of output tokens|supports at most \d[\d,]* completion tokens"
                     r"|maximum output (?:length|tokens)|maximum tokens you requested exceeds"
                     r"|max(?:imum)? tokens must be|is not less or equal to|max_?output_?tokens"
                     r"|valid range of max_tokens", "not_overflow"),
    _p("payload size", r"request exceeds the maximum size|payload (?:size|too large)|request entity too large"
                       r"|request_too_large|must have length less than or equal to|larger than max \(", "not_overflow"),
    _p("overloaded or unavailable", r"overloaded|high demand|service unavailable|temporarily unavailable",
       "not_overflow"),
    _p("auth", r"api[ _-]?key|unauthori[sz]ed|authentication|permission denied|forbidden|not supported in your "
               r"(?:country|region)|region, or territory", "not_overflow"),
    # ---- weak: generic phrases ----
    _p("reduce the length of the messages", r"reduce the length of (?:the messages|either one)", "weak"),
    _p("too many tokens", r"\btoo many tokens\b", "weak"),
    _p("input too long", r"\b(?:input|context|prompt) (?:is )?too (?:long|large)\b", "weak"),
    _p("token limit exceeded", r"\btoken limit exceeded\b|\bexceed(?:s|ed)? (?:the )?(?:model(?:'s)? )?(?:token|context)"
                               r" limit\b", "weak"),
    _p("prompt exceeds maximum", r"\bprompt (?:length )?exceeds (?:the )?max(?:imum)? (?:length|tokens|context)", "weak"),
    _p("max length exceeded", r"\bmax(?:imum)? (?:context |sequence |input )?length exceeded\b", "weak"),
    _p("total length too long", r"total length of all messages is too long", "weak"),
)


def scan_text(text: str) -> str:
    """``text`` capped to :data:`SCAN_HEAD` + :data:`SCAN_TAIL` characters (its head and tail)."""
    if len(text) <= SCAN_HEAD + SCAN_TAIL:
        return text
    return text[:SCAN_HEAD] + "\n" + text[-SCAN_TAIL:]


def _plugin_patterns() -> tuple[OverflowPattern, ...]:
    """Patterns from every plugin's ``overflow_patterns`` hook (cached per plugin host)."""
    try:
        from .manager import get_hooks
    except Exception:  # pragma: no cover - the module is importable without a host
        return ()
    return get_hooks().overflow_patterns()


def rules(extra: Iterable[OverflowPattern] = ()) -> list[OverflowPattern]:
    """Every rule in the order they are tried: plugins' then built-in, strong, not-overflow, weak."""
    plugged = [*extra, *_plugin_patterns()]
    ordered: list[OverflowPattern] = []
    for tier in ("strong", "not_overflow", "weak"):
        ordered += [p for p in plugged if p.tier == tier]
        ordered += [p for p in BUILTIN if p.tier == tier]
    return ordered


def classify_text(message: str, *, strong_only: bool = False,
                  extra: Iterable[OverflowPattern] = ()) -> tuple[OverflowPattern, Counts] | None:
    """The rule that decides ``message`` and its counts: an overflow rule, or a ``not_overflow``
    rule (read ``.tier``), or ``None`` when nothing matched. ``strong_only`` stops after the
    strong tier (for errors behind statuses that are rarely overflow: 413, 5xx)."""
    if not message:
        return None
    text = scan_text(message)
    for rule in rules(extra):
        if strong_only and rule.tier != "strong":
            return None
        found = rule.compiled.search(text)
        if found:
            return rule, (rule.counts(found) if rule.tier != "not_overflow" else (None, None))
    return None


def match_overflow(message: str, *, strong_only: bool = False) -> tuple[str, Counts] | None:
    """``(rule name, (limit, requested))`` if ``message`` reads as a context overflow, else ``None``."""
    found = classify_text(message, strong_only=strong_only)
    if found is None or found[0].tier == "not_overflow":
        return None
    rule, counts = found
    return rule.name, counts


def counts_in(message: str) -> Counts:
    """The ``(limit, requested)`` counts an overflow message states (``(None, None)`` if none)."""
    text = scan_text(message or "")
    for rule in rules():
        if rule.tier == "not_overflow":
            continue
        found = rule.compiled.search(text)
        if found:
            counts = rule.counts(found)
            if counts != (None, None):
                return counts
    return (None, None)
