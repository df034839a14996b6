"""Peer compressors for ``bench/retention.py --real``, run in the peers' own virtualenv.

Reads ``{"cases": [{"id", "messages", "budget"}]}`` as JSON on stdin and prints
``{"massgen": {id: messages}, "langchain": {id: messages}, "errors": {...}}``:

* ``massgen`` -- MassGen's offline path: ``massgen.memory._compression.ContextCompressor``'s
  ``_select_messages_to_keep`` (keeps every system message, then the newest messages that fit
  ``target_tokens`` by MassGen's own ``TokenCostCalculator``; drops the rest unsummarised);
* ``langchain`` -- ``langchain_core.messages.trim_messages(strategy="last", include_system=True,
  start_on="human")`` counting with tiktoken ``o200k_base``.

Set up the venv (outside the repository) as ``docs/benchmarks.md`` says.
"""

from __future__ import annotations

import json
import sys


def massgen_method():
    from massgen.memory._compression import ContextCompressor
    from massgen.memory._conversation import ConversationMemory
    from massgen.token_manager.token_manager import TokenCostCalculator

    compressor = ContextCompressor(TokenCostCalculator(), ConversationMemory())

    def run(messages, budget):
        return compressor._select_messages_to_keep(messages=messages, target_tokens=budget)

    return run


def langchain_method():
    import tiktoken
    from langchain_core.messages import convert_to_messages, convert_to_openai_messages, trim_messages

    enc = tiktoken.get_encoding("o200k_base")

    def count(msgs) -> int:
        total = 3
        for m in convert_to_openai_messages(msgs):
            total += 4 + len(enc.encode_ordinary(json.dumps(m.get("content") or "")))
            for call in m.get("tool_calls") or ():
                total += 7 + len(enc.encode_ordinary(json.dumps(call.get("function") or {})))
        return total

    def run(messages, budget):
        out = trim_messages(convert_to_messages(messages), max_tokens=budget, strategy="last", token_counter=count,
                            include_system=True, start_on="human", allow_partial=False)
        return convert_to_openai_messages(out)

    return run


def main() -> int:
    cases = json.load(sys.stdin)["cases"]
    out: dict = {"massgen": {}, "langchain": {}, "errors": {}}
    for name, make in (("massgen", massgen_method), ("langchain", langchain_method)):
        try:
            method = make()
        except Exception as exc:  # not installed or broken: reported, not fatal
            out["errors"][name] = f"{type(exc).__name__}: {exc}"
            continue
        for case in cases:
            try:
                out[name][case["id"]] = method(case["messages"], case["budget"])
            except Exception as exc:
                out["errors"][f"{name}:{case['id']}"] = f"{type(exc).__name__}: {exc}"
    json.dump(out, sys.stdout)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
