"""Gists: every range the extract condenses has a stable id, its originals come back with
``expand``, and gists of gists form a hierarchy as a session grows."""

from __future__ import annotations

from massgen_plugins.compression import compress_conversation_sync
from massgen_plugins.compression.gists import GIST_RE, children, expand, gist_of, render_expansion, tree
from massgen_plugins.compression.synthetic import generate_conversation

MODEL = "openai/gpt-4o"
LOCAL = {"stages": ["mask", "extract", "truncate"]}


def _gists_in(messages) -> list[str]:
    return [g for m in messages for g in GIST_RE.findall(m.text() if hasattr(m, "text") else str(m.get("content")))]


def test_every_condensed_range_is_a_gist_with_a_stable_id(no_keys):
    conv = generate_conversation(5, turns=30, facts=6)
    a = compress_conversation_sync(conv.messages, model=MODEL, ratio=4, tools=conv.tools, options=LOCAL)
    b = compress_conversation_sync(conv.messages, model=MODEL, ratio=4, tools=conv.tools, options=LOCAL)
    shown = _gists_in(a.messages)
    assert shown and shown == _gists_in(b.messages)  # same input, same ids
    extracted = [r for r in a.archive if r.stage == "extract"]
    assert extracted and all(gist_of(r) in shown for r in extracted)
    for gid in shown:
        originals = expand(a.archive, gid)
        assert originals  # every gist shown in the context can be expanded
        positions = [r.model_extra["position"] for r in a.archive if gist_of(r) == gid]
        assert positions == sorted(positions)
    text = render_expansion(a.archive, shown[0])
    assert text.startswith(f"[expanded {shown[0]}:") and "[user]" in text
    assert render_expansion(a.archive, "g-000000000000").startswith("No gist")


def test_gists_of_gists_form_a_hierarchy(no_keys):
    conv = generate_conversation(9, turns=40, facts=0)
    first = compress_conversation_sync(conv.messages[:60], model=MODEL, ratio=3, options=LOCAL)
    older = _gists_in(first.messages)
    assert older
    grown = [*[m.model_dump(mode="json", exclude_unset=True) for m in first.messages], *conv.messages[60:]]
    second = compress_conversation_sync(grown, model=MODEL, ratio=4, options=LOCAL)
    archive = [*first.archive, *second.archive]
    newer = [g for g in _gists_in(second.messages) if g not in older]
    assert newer
    parents = [g for g in newer if set(children(archive, g)) & set(older)]
    assert parents, "a new gist condensed the older extract and names its gists"
    parent = parents[0]
    assert set(children(archive, parent)) <= set(older)
    structure = tree(archive)
    assert structure[parent]["children"] and all(c in structure for c in structure[parent]["children"])
    # one level down at a time: the parent's expansion shows the older gists' headers
    assert any(c in render_expansion(archive, parent) for c in older)


def test_expanding_gives_masked_tool_results_back_whole(no_keys):
    conv = generate_conversation(13, turns=30, tool_tokens=(600, 1_500), facts=0)
    report = compress_conversation_sync(conv.messages, model=MODEL, ratio=6, tools=conv.tools, options=LOCAL)
    assert "mask" in report.ran and "extract" in report.ran
    masked = {r.replaced_by: r.message for r in report.archive if r.stage == "mask"}
    gid = _gists_in(report.messages)[0]
    expanded = expand(report.archive, gid)
    stubs_in_gist = [r for r in report.archive if gist_of(r) == gid and r.id in masked]
    assert stubs_in_gist, "the gist condensed masked tool results"
    texts = [m.text() for m in expanded]
    for record in stubs_in_gist:
        assert masked[record.id].text() in texts  # the full output, not the stub
