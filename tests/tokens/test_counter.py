"""Token counting: exact tiktoken counts, the per-message cache, incremental recounts, tools,
parts, tokenizer families, and the estimate when the encoding files are missing."""

from __future__ import annotations

import copy

import pytest
import tiktoken
from massgen_plugins.compression.synthetic import generate_conversation
from massgen_plugins.tokens import (
    TokenCounter,
    count_conversation,
    encoding_name_for,
    estimate_tokens,
    reset,
    tokenizer_for,
)
from massgen_plugins.tokens.counter import IMAGE_TOKENS, IMAGE_TOKENS_LOW, MESSAGE_OVERHEAD, REPLY_PRIMING


@pytest.fixture(autouse=True)
def _fresh_counters():
    reset()
    yield
    reset()


def test_openai_text_counts_are_exactly_tiktoken():
    enc = tiktoken.get_encoding("o200k_base")
    text = "Deploy DPL-48213 to eu-west-1 at 14:05 UTC; don't touch /etc/legacy."
    counter = TokenCounter("openai/gpt-4o")
    assert counter.exact and counter.margin == 0 and counter.method == "tiktoken:o200k_base"
    assert counter.text(text) == len(enc.encode_ordinary(text))
    msgs = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": text}]
    expected = sum(MESSAGE_OVERHEAD + len(enc.encode_ordinary(m["content"])) for m in msgs) + REPLY_PRIMING
    assert counter.count(msgs) == expected


@pytest.mark.parametrize(("model", "encoding"), [
    ("openai/gpt-4o-mini", "o200k_base"),
    ("openai/gpt-4.1", "o200k_base"),
    ("openai/o3-mini", "o200k_base"),
    ("openai/gpt-4", "cl100k_base"),
    ("openai/gpt-4-turbo", "cl100k_base"),
    ("openai/gpt-3.5-turbo", "cl100k_base"),
    ("openrouter/openai/gpt-4o-mini", "o200k_base"),
    ("anthropic/claude-haiku-4-5", None),
    ("gemini/gemini-2.5-flash", None),
    ("openrouter/meta-llama/llama-3.1-8b-instruct", None),
])
def test_tokenizer_family_per_model(model, encoding):
    assert encoding_name_for(model) == encoding
    tok = tokenizer_for(model)
    if encoding:
        assert tok.method == f"tiktoken:{encoding}" and tok.exact
    else:
        assert tok.method.startswith("proxy:o200k_base") and not tok.exact and tok.margin >= 0.10


def test_anthropic_margin_is_stated_and_larger():
    tc = count_conversation("anthropic/claude-haiku-4-5", [{"role": "user", "content": "hello there"}])
    assert tc.exact is False and tc.margin == pytest.approx(0.15)
    openai = count_conversation("openai/gpt-4o", [{"role": "user", "content": "hello there"}])
    assert openai.exact and openai.margin == 0
    assert tc.tokens >= openai.tokens


def test_appending_one_message_tokenizes_only_that_message():
    conv = generate_conversation(5, turns=40).messages
    counter = TokenCounter("openai/gpt-4o")
    first = counter.count(conv)
    misses = counter.misses
    grown = [*conv, {"role": "user", "content": "one more question about mod_12.py"}]
    second = counter.count(grown)
    assert counter.misses - misses == 1
    assert second - first == counter.message(grown[-1])
    # a fresh list with equal (not identical) messages is served from the content cache
    copied = copy.deepcopy(grown)
    misses = counter.misses
    assert counter.count(copied) == second
    assert counter.misses == misses


def test_replacing_content_is_seen_by_the_identity_fast_path():
    counter = TokenCounter("openai/gpt-4o")
    msgs = [{"role": "user", "content": "short"}, {"role": "assistant", "content": "ok"}]
    before = counter.count(msgs)
    msgs[1]["content"] = "a much longer answer " * 20
    assert counter.count(msgs) > before


def test_tool_calls_results_and_schemas_are_counted():
    counter = TokenCounter("openai/gpt-4o")
    call = {"id": "call_1", "type": "function",
            "function": {"name": "read_file", "arguments": '{"path": "src/app.py"}'}}
    base = [{"role": "user", "content": "read it"}]
    with_call = [*base, {"role": "assistant", "content": None, "tool_calls": [call]},
                 {"role": "tool", "tool_call_id": "call_1", "content": "print('hi')"}]
    assert counter.count(with_call) > counter.count(base)
    tools = [{"type": "function", "function": {"name": "read_file", "parameters": {"type": "object"}}}]
    assert counter.count(base, tools) - counter.count(base) == counter.tools(tools) > 8


def test_parts_images_and_compaction_items():
    counter = TokenCounter("openai/gpt-4o")
    text_only = {"role": "user", "content": [{"type": "text", "text": "look at this"}]}
    high = {"role": "user", "content": [{"type": "text", "text": "look at this"},
                                        {"type": "image_url", "image_url": {"url": "https://x/y.png"}}]}
    low = {"role": "user", "content": [{"type": "text", "text": "look at this"},
                                       {"type": "image_url", "image_url": {"url": "https://x/y.png", "detail": "low"}}]}
    assert counter.message(high) - counter.message(text_only) == IMAGE_TOKENS
    assert counter.message(low) - counter.message(text_only) == IMAGE_TOKENS_LOW
    compaction = {"role": "assistant", "content": [{"type": "compaction", "id": "cmp_1", "encrypted_content": "x" * 3200}]}
    assert counter.message(compaction) == MESSAGE_OVERHEAD + 200


def test_estimate_without_encoding_files(tmp_path, monkeypatch):
    text = generate_conversation(2, turns=12).messages
    truth = count_conversation("openai/gpt-4o", text).tokens
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(tmp_path))  # empty: no encoding files
    reset()
    tc = count_conversation("openai/gpt-4o", text)
    assert tc.method == "estimate" and tc.exact is False and tc.margin == pytest.approx(0.20)
    # the estimate bounds the exact count from above, and stays usable
    assert truth <= tc.tokens <= truth * 2.0
    assert count_conversation("anthropic/claude-haiku-4-5", text).method == "estimate"


@pytest.mark.parametrize("text", [
    "The quick brown fox jumps over the lazy dog. " * 20,
    "def f(x):\n    return {'a': [1, 2, 3], 'path': '/usr/local/bin'}\n" * 10,
    '{"id": 12345, "name": "widget", "tags": ["a", "b"], "price": 19.99}' * 10,
])
def test_estimate_is_an_upper_bound_of_o200k(text):
    truth = len(tiktoken.get_encoding("o200k_base").encode_ordinary(text))
    assert truth <= estimate_tokens(text) <= truth * 2.0


def _lookups(counter: TokenCounter) -> int:
    return counter.hits + counter.misses


def test_a_replaced_tail_reuses_the_shared_prefix_and_stays_exact():
    conv = generate_conversation(6, turns=30).messages
    counter = TokenCounter("openai/gpt-4o")
    counter.count([*conv, {"role": "user", "content": "first question"}])
    # the same history with a different last message (a retried turn, a reset conversation)
    retried = [*conv, {"role": "user", "content": "second question, worded differently"}]
    before = _lookups(counter)
    total = counter.count(retried)
    assert _lookups(counter) - before == 1  # only the new message is looked at
    assert total == TokenCounter("openai/gpt-4o").count(retried)


def test_a_change_in_the_middle_recounts_from_there_exactly():
    conv = [dict(m) for m in generate_conversation(7, turns=30).messages]
    counter = TokenCounter("openai/gpt-4o")
    counter.count(conv)
    middle = len(conv) // 2
    conv[middle]["content"] = "replaced " * 50  # a new content object at one position
    before = _lookups(counter)
    total = counter.count(conv)
    assert _lookups(counter) - before == len(conv) - middle
    assert total == TokenCounter("openai/gpt-4o").count(conv)
    # a shorter list of the same objects (a truncated history) is a prefix: nothing is looked at
    before = _lookups(counter)
    assert counter.count(conv[:middle]) == TokenCounter("openai/gpt-4o").count(conv[:middle])
    assert _lookups(counter) == before


def test_a_mixed_list_of_dicts_and_messages_keeps_the_prefix_exact():
    from massgen_plugins.types import Message

    mixed = [Message(role="system", content="be brief"), {"role": "user", "content": "hi"},
             Message(role="assistant", content="hello"), {"role": "user", "content": "again"}]
    counter = TokenCounter("openai/gpt-4o")
    counter.count(mixed)
    changed = [*mixed[:3], {"role": "user", "content": "something else entirely"}]
    before = _lookups(counter)
    assert counter.count(changed) == TokenCounter("openai/gpt-4o").count(changed)
    assert _lookups(counter) - before == 1
