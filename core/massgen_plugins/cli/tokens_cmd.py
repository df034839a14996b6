"""``massgen-plugins tokens FILE --model M [--window N] [--json]``: count a conversation's tokens."""

from __future__ import annotations

from collections import defaultdict

import click

from .output import Column, emit_json, plural, print_table, print_wrapped

KNOWN_PROVIDERS = ("openai", "anthropic", "gemini", "groq", "xai", "nebius", "openrouter")


def check_model(model: str) -> str:
    """Validate ``provider/model``: the provider must be installed or one the counter knows."""
    from ..errors import UnknownProviderError
    from ..modelref import parse_model
    from ..providers import installed_providers

    ref = parse_model(model)
    installed = sorted(installed_providers())
    if ref.provider not in installed and ref.provider not in KNOWN_PROVIDERS:
        raise UnknownProviderError(
            f"unknown provider {ref.provider!r} in {model!r}; installed providers: {', '.join(installed) or 'none'}")
    return f"{ref.provider}/{ref.model}"


@click.command("tokens")
@click.argument("file", type=click.Path(dir_okay=False, path_type=str))
@click.option("--model", "-m", required=True, help="provider/model the conversation is for (picks the tokenizer).")
@click.option("--window", type=click.IntRange(min=1), default=None,
              help="Context window to compare against (default: from the model registry).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def tokens_command(file: str, model: str, window: int | None, as_json: bool) -> None:
    """Count the input tokens of the conversation in FILE for a model.

    FILE is JSON: a list of chat messages or {"messages": [...], "tools": [...]}. OpenAI models
    are counted exactly (tiktoken); other providers get a proxy count with its margin stated.
    """
    from ..compression.io import load_conversation
    from ..compression.windows import model_window
    from ..manager import get_hooks
    from ..tokens import counter_for
    from ..types import TokenCountRequest

    model = check_model(model)
    conv = load_conversation(file)
    counter = counter_for(model)
    per_message = counter.per_message(conv.messages)
    by_role: dict[str, int] = defaultdict(int)
    for m, t in zip(conv.messages, per_message, strict=True):
        by_role[m.role] += t
    tools_tokens = counter.tools(conv.tools)
    chosen = get_hooks().count_tokens(TokenCountRequest(model=model, messages=conv.messages, tools=conv.tools))
    if chosen.value is not None:
        total, method, exact, margin = chosen.value.tokens, chosen.value.method, chosen.value.exact, chosen.value.margin
        counted_by = chosen.plugin
    else:  # no count_tokens implementation at all (the built-in one disabled)
        total, method, exact, margin = counter.count(conv.messages, conv.tools), counter.method, counter.exact, \
            counter.margin
        counted_by = "local"
    with_margin = int(total * (1 + margin) + 0.999) if margin else total
    win: int | None
    if window is not None:
        win, win_source = window, "--window"
    else:
        info = model_window(model)
        win, win_source = info.context_window, info.source
    data = {
        "model": model,
        "tokens": total,
        "tokens_with_margin": with_margin,
        "method": method,
        "exact": exact,
        "margin": margin,
        "counted_by": counted_by,
        "messages": len(conv.messages),
        "by_role": dict(by_role),
        "tools": len(conv.tools),
        "tools_tokens": tools_tokens,
        "context_window": win,
        "window_source": win_source,
        "window_used": round(with_margin / win, 4) if win else None,
        "per_message": per_message,
        # count_tokens implementations that raised, returned the wrong type or missed their deadline
        "skipped": [{"plugin": a.plugin, "hook": a.hook, "status": a.status, "reason": a.error}
                    for a in chosen.skipped],
    }
    if as_json:
        emit_json(data)
        return
    rows = [(role, f"{t:,}") for role, t in sorted(by_role.items(), key=lambda kv: -kv[1])]
    if conv.tools:
        rows.append((f"tool schemas ({len(conv.tools)})", f"{tools_tokens:,}"))
    rows.append(("total", f"{total:,}"))
    print_table(f"{file} · {model} · {plural(len(conv.messages), 'message')}",
                [Column("part", "id"), Column("tokens", "num")], rows)
    how = "exact" if exact else f"estimate, ±{margin:.0%} → budget with {with_margin:,}"
    print_wrapped(f"counted with {method} ({how}) by {counted_by}")
    if win:
        print_wrapped(f"context window {win:,} ({win_source}): {with_margin / win:.1%} used")
    else:
        print_wrapped(f"context window unknown ({win_source}); pass --window N to compare")
