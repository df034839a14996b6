"""``massgen-plugins compress FILE --model M (--budget N | --ratio R) [--strategy S] [--output OUT]
[--archive OUT] [--json]``: run the compression chain on a conversation file."""

from __future__ import annotations

import click

from .output import Column, emit_json, plural, print_table, print_wrapped


@click.command("compress")
@click.argument("file", type=click.Path(dir_okay=False, path_type=str))
@click.option("--model", "-m", required=True, help="provider/model the conversation is for.")
@click.option("--budget", type=click.IntRange(min=1), default=None, help="Fit into this many input tokens.")
@click.option("--ratio", type=click.FloatRange(min=0, min_open=True), default=None,
              help="Compress to a fraction of the current size: 0.25 and 4 both mean 'to a quarter'.")
@click.option("--strategy", "-s", type=click.Choice(["conservative", "balanced", "aggressive"]),
              default="balanced", show_default=True, help="Compression strategy.")
@click.option("--summarizer", default=None, help="provider/model that writes summaries (default: --model).")
@click.option("--stages", default=None, help="Comma-separated allowed stages (default: the strategy's).")
@click.option("--keep-recent", type=click.IntRange(min=0), default=None,
              help="Tokens of the newest turns kept verbatim (overrides the strategy).")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=str), default=None,
              help="Write the compressed conversation here (same format as FILE).")
@click.option("--archive", type=click.Path(dir_okay=False, path_type=str), default=None,
              help="Write the archive (every removed or replaced message, with provenance) here.")
@click.option("--json", "as_json", is_flag=True, help="Print the report and the result as JSON.")
def compress_command(file: str, model: str, budget: int | None, ratio: float | None, strategy: str,
                     summarizer: str | None, stages: str | None, keep_recent: int | None, output: str | None,
                     archive: str | None, as_json: bool) -> None:
    """Compress the conversation in FILE until it fits --budget tokens (or --ratio of its size).

    Stages run in order until it fits: mask old tool results, native compaction (OpenAI),
    summarize (needs the provider's API key; skipped with a note otherwise), extract, truncate.
    The system prompt, the latest user message and every tool call/result pair are kept.
    """
    from ..compression.io import load_conversation, write_json
    from ..compression.runner import compress_conversation_sync
    from ..errors import InputError
    from .tokens_cmd import check_model

    if (budget is None) == (ratio is None):
        raise InputError("give exactly one of --budget TOKENS or --ratio R")
    model = check_model(model)
    options: dict[str, object] = {}
    if summarizer:
        options["summarizer_model"] = check_model(summarizer)
    if stages:
        options["stages"] = [s.strip() for s in stages.split(",") if s.strip()]
    if keep_recent is not None:
        options["keep_recent_tokens"] = keep_recent
    conv = load_conversation(file)
    report = compress_conversation_sync(conv.messages, model=model, budget=budget, ratio=ratio, strategy=strategy,
                                        tools=conv.tools, options=options)
    if output:
        write_json(output, conv.dump(report.messages))
    if archive:
        write_json(archive, {"model": model, "archive": [a.model_dump(mode="json", exclude_unset=False)
                                                         for a in report.archive]})
    if as_json:
        data = report.summary()
        data["messages"] = conv.dump(report.messages)
        data["archive"] = [a.model_dump(mode="json") for a in report.archive]
        emit_json(data)
        return
    rows = [(s.name, s.status, f"{s.tokens_before:,}", f"{s.tokens_after:,}", f"{s.seconds * 1000:,.0f} ms",
             s.archived or "", s.reason or "; ".join(s.notes)) for s in report.stages]
    print_table(f"{file} · {model} · strategy {report.strategy.name}",
                [Column("stage", "id"), Column("status", "id"), Column("before", "num"), Column("after", "num"),
                 Column("time", "num"), Column("archived", "num"), Column("detail", "note")], rows)
    print_wrapped(f"{report.tokens_before:,} → {report.tokens_after:,} tokens (budget {report.budget:,}, "
               f"{plural(len(report.messages), 'message')}, {len(report.archive):,} archived, counted with "
               f"{report.counting['method']})")
    for note in report.notes:
        print_wrapped(f"note: {note}")
    for s in report.stages:
        if s.status == "skipped" and s.name == "summarize":
            print_wrapped(f"note: the model-backed summarize stage was skipped: {s.reason}")
    if output:
        print_wrapped(f"wrote {output}")
    if archive:
        print_wrapped(f"wrote the archive to {archive}")
    if not output and not archive:
        print_wrapped("(use --output FILE to write the compressed conversation)")
