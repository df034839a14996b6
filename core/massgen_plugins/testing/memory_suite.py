"""The shared test suite every memory store backend must pass.

Built-in SQLite and the PostgreSQL plugin both run it; a third-party backend can too::

    from massgen_plugins.testing.memory_suite import MemoryStoreSuite

    class TestMyStore(MemoryStoreSuite):
        @pytest.fixture
        def new_url(self, tmp_path):
            # return a function giving the URL of a *fresh, empty* store; keyword arguments
            # become URL query parameters (guard_budget=5, max_user=3, ttl_session=1h, ...)
            def make(**params): ...
            return make

Everything goes through :func:`massgen_plugins.memory.open_store`, i.e. through the
``memory_store`` hook, exactly as users open stores.
"""

from __future__ import annotations

import io
import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from massgen_plugins.errors import InputError
from massgen_plugins.memory import open_store
from massgen_plugins.memory.store import ConflictError, MemoryStore, Scope

__all__ = ["MemoryStoreSuite"]

ALICE = Scope(user="alice")
BOB = Scope(user="bob")


def _msg(role: str, content: str) -> dict[str, Any]:
    return {"role": role, "content": content}


class MemoryStoreSuite:
    """Backend-neutral behaviour of :class:`~massgen_plugins.memory.store.MemoryStore`."""

    @pytest.fixture
    def store(self, new_url: Callable[..., str]) -> Iterator[MemoryStore]:
        store = open_store(new_url())
        try:
            yield store
        finally:
            store.close()

    # ----------------------------------------------------------------- long-term basics
    def test_add_get_roundtrip_with_checksum(self, store: MemoryStore) -> None:
        record, created = store.add("Alice prefers metric units", scope=ALICE, kind="fact",
                                    metadata={"source": "chat", "n": 1})
        assert created
        assert record.checksum and record.version == 1
        again = store.get(record.id)
        assert again is not None
        assert again.text == "Alice prefers metric units"
        assert again.scope.user == "alice" and again.scope.agent is None
        assert again.metadata == {"source": "chat", "n": 1}
        assert again.checksum == record.checksum
        assert store.get("no-such-id") is None

    def test_identical_facts_are_deduplicated_per_scope(self, store: MemoryStore) -> None:
        first, created = store.add("Alice prefers metric units", scope=ALICE)
        second, created_again = store.add("  alice PREFERS   metric units ", scope=ALICE)
        assert created and not created_again
        assert second.id == first.id
        other, created_bob = store.add("Alice prefers metric units", scope=BOB)
        assert created_bob and other.id != first.id
        assert len(store.list(ALICE)) == 1

    def test_bad_input_is_an_input_error(self, store: MemoryStore) -> None:
        with pytest.raises(InputError):
            store.add("   ", scope=ALICE)
        with pytest.raises(InputError):
            store.add("x" * (store.limits.max_text_chars + 1))
        with pytest.raises(InputError):
            Scope(user="bad\x00id")
        with pytest.raises(InputError):
            store.update("missing", text="new")
        with pytest.raises(InputError):
            store.search("x", limit=0)

    def test_update_keeps_history(self, store: MemoryStore) -> None:
        record, _ = store.add("the deploy target is staging", scope=ALICE, metadata={"v": 1})
        store.update(record.id, text="the deploy target is production")
        updated = store.update(record.id, metadata={"v": 3})
        assert updated.version == 3
        full = store.get(record.id, history=True)
        assert full is not None
        assert full.text == "the deploy target is production" and full.metadata == {"v": 3}
        assert [(h.version, h.text) for h in full.history] == [
            (1, "the deploy target is staging"), (2, "the deploy target is production")]
        assert full.history[0].metadata == {"v": 1}
        hits = store.search("staging", scope=ALICE)
        assert len(hits) == 0, "the index follows the current text"
        assert store.search("production", scope=ALICE).texts() == ["the deploy target is production"]

    def test_delete(self, store: MemoryStore) -> None:
        record, _ = store.add("temporary note", kind="note", scope=ALICE)
        assert store.delete(record.id) is True
        assert store.get(record.id) is None
        assert store.delete(record.id) is False
        assert len(store.search("temporary")) == 0

    def test_reopen_keeps_everything(self, new_url: Callable[..., str]) -> None:
        url = new_url()
        with open_store(url) as store:
            record, _ = store.add("survives restarts", scope=ALICE)
            store.append_turn("s-reopen", [_msg("user", "hello")])
        with open_store(url) as again:
            assert again.get(record.id) is not None
            state = again.load_session("s-reopen")
            assert state is not None and state.turn == 1

    # ----------------------------------------------------------------- scopes and search
    def test_scope_isolation(self, store: MemoryStore) -> None:
        store.add("alice's secret project is called falcon", scope=ALICE)
        store.add("bob's secret project is called falcon too", scope=BOB)
        store.add("agent note about falcon", scope=Scope(user="alice", agent="planner"))
        store.add("team decision: falcon ships friday", scope=Scope(team="run-7"))
        store.add("session remark on falcon", scope=Scope(user="alice", session="s1"))
        for hit in store.search("falcon secret project", scope=ALICE, limit=50):
            assert hit.record.scope.user == "alice"
        assert len(store.search("falcon", scope=ALICE, limit=50)) == 3
        assert store.search("falcon", scope=BOB).texts() == ["bob's secret project is called falcon too"]
        assert store.search("falcon", scope=Scope(team="run-7")).texts() == ["team decision: falcon ships friday"]
        assert store.search("falcon", scope=Scope(user="alice", agent="planner")).texts() == [
            "agent note about falcon"]
        assert {r.text for r in store.list(Scope(session="s1"))} == {"session remark on falcon"}
        assert len(store.search("falcon", limit=50)) == 5
        assert len(store.search("falcon", scope=Scope(user="carol"))) == 0

    def test_search_ranks_relevant_first(self, store: MemoryStore) -> None:
        store.add("the weather was nice on monday", scope=ALICE)
        store.add("alice's favourite database is postgres; she loves postgres", scope=ALICE)
        store.add("lunch was pasta", scope=ALICE)
        results = store.search("which database does she love", scope=ALICE)
        assert results.plan == "ranked"
        assert results.texts()[0].startswith("alice's favourite database")
        assert all(0 <= h.recency <= 1 for h in results.hits)
        assert results.hits[0].score >= results.hits[-1].score
        assert len(store.search("")) == 0 and store.search("!!!").plan == "empty"
        assert store.search('"unbalanced AND OR NEAR(', scope=ALICE) is not None  # no query-syntax injection

    def test_common_term_guard(self, new_url: Callable[..., str]) -> None:
        with open_store(new_url(guard_budget=5)) as store:
            store.add_many([{"text": f"the note number {i} about the project", "scope": ALICE} for i in range(30)])
            store.add("the kangaroo escaped from the zoo", scope=ALICE)
            store.add("the bob note", scope=BOB)
            common = store.search("the", scope=ALICE, limit=5)
            assert common.plan == "recency" and common.common_terms == ["the"]
            assert len(common) == 5
            assert all(h.record.scope.user == "alice" for h in common.hits)
            assert common.texts()[0] == "the kangaroo escaped from the zoo", "newest first"
            mixed = store.search("the kangaroo", scope=ALICE, limit=3)
            assert mixed.plan == "guarded" and "the" in mixed.common_terms
            assert mixed.texts()[0] == "the kangaroo escaped from the zoo"
            assert len(mixed) == 3, "common terms fill up the remaining places"

    def test_search_kind_filter_and_limit(self, store: MemoryStore) -> None:
        store.add("release checklist: tag, build, upload", kind="note", scope=ALICE)
        store.add("the release happens on tuesdays", kind="fact", scope=ALICE)
        assert store.search("release", kind="note").texts() == ["release checklist: tag, build, upload"]
        assert len(store.search("release", limit=1)) == 1

    # ----------------------------------------------------------------- limits, ttl, gc
    def test_expired_memories_are_invisible_and_collected(self, store: MemoryStore) -> None:
        past = time.time() - 10
        added, dups = store.add_many([
            {"text": "expired fact about otters", "scope": ALICE, "expires_at": past},
            {"text": "live fact about otters", "scope": ALICE},
        ])
        assert (added, dups) == (2, 0)
        assert store.search("otters", scope=ALICE).texts() == ["live fact about otters"]
        assert [r.text for r in store.list(ALICE)] == ["live fact about otters"]
        assert len(store.list(ALICE, include_expired=True)) == 2
        stats = store.stats(ALICE)
        assert stats.memories == 1 and stats.expired == 1
        assert store.gc(dry_run=True).expired == 1
        assert store.stats(ALICE).expired == 1, "dry run changes nothing"
        assert store.gc().expired == 1
        assert store.stats(ALICE).expired == 0
        assert len(store.list(ALICE, include_expired=True)) == 1

    def test_ttl_per_level(self, new_url: Callable[..., str]) -> None:
        with open_store(new_url(ttl_session="1h")) as store:
            session_record, _ = store.add("scratch", scope=Scope(user="alice", session="s1"))
            user_record, _ = store.add("durable", scope=ALICE)
            explicit, _ = store.add("explicit", scope=ALICE, ttl=60)
            assert session_record.expires_at is not None
            lifetime = session_record.expires_at.timestamp() - session_record.created_at.timestamp()
            assert 3599 <= lifetime <= 3601
            assert user_record.expires_at is None
            assert explicit.expires_at is not None

    def test_max_records_per_scope(self, new_url: Callable[..., str]) -> None:
        with open_store(new_url(max_user=3)) as store:
            for i in range(5):
                store.add(f"fact number {i}", scope=ALICE)
            store.add("bob's only fact", scope=BOB)
            kept = [r.text for r in store.list(ALICE)]
            assert kept == ["fact number 4", "fact number 3", "fact number 2"]
            assert len(store.list(BOB)) == 1

    # ----------------------------------------------------------------- export / import
    def test_export_import_roundtrip_is_idempotent(self, store: MemoryStore, new_url: Callable[..., str]) -> None:
        store.add("alice likes tea", scope=ALICE, metadata={"k": "v"})
        store.add("planner lesson: verify before commit", scope=Scope(agent="planner", team="t1"), kind="note")
        store.add("run-specific detail", scope=Scope(user="alice", session="run-1"))
        buffer = io.StringIO()
        assert store.export_jsonl(buffer) == 3
        lines = [json.loads(line) for line in buffer.getvalue().splitlines()]
        by_text = {line["text"]: line for line in lines}
        assert by_text["run-specific detail"]["run_id"] == "run-1"
        assert by_text["alice likes tea"]["user_id"] == "alice"
        assert by_text["alice likes tea"]["memory"] == "alice likes tea"
        with open_store(new_url()) as other:
            first = other.import_jsonl(buffer.getvalue().splitlines())
            assert (first.read, first.added, first.duplicates, first.errors) == (3, 3, 0, [])
            second = other.import_jsonl(buffer.getvalue().splitlines())
            assert (second.added, second.duplicates) == (0, 3)
            assert {r.text for r in other.list(limit=10)} == set(by_text)
            tea = other.search("tea", scope=ALICE)[0].record
            assert tea.metadata == {"k": "v"} and tea.id == by_text["alice likes tea"]["id"]

    def test_import_mem0_lines(self, store: MemoryStore) -> None:
        lines = [
            json.dumps({"text": "Alice is vegetarian", "user_id": "alice"}),
            json.dumps({"memory": "Prefers short answers", "user_id": "alice", "agent_id": "writer",
                        "run_id": "r9", "metadata": {"category": "style"},
                        "created_at": "2024-05-01T10:00:00-07:00"}),
            "",
            "{not json",
            json.dumps({"user_id": "alice"}),
            json.dumps({"text": "Bob is allergic to nuts", "user_id": "bob"}),
        ]
        report = store.import_jsonl(lines)
        assert (report.read, report.added, report.duplicates) == (5, 3, 0)
        assert len(report.errors) == 2 and report.errors[0].startswith("line 4")
        style = store.search("short answers", scope=Scope(user="alice", agent="writer"))[0].record
        assert style.scope.session == "r9" and style.metadata == {"category": "style"}
        assert style.created_at.year == 2024
        assert store.search("vegetarian", scope=BOB).hits == []
        again = store.import_jsonl(lines)
        assert again.added == 0 and again.duplicates == 3
        with pytest.raises(InputError):
            store.import_jsonl(["{not json"], strict=True)

    # ----------------------------------------------------------------- short-term sessions
    def test_turns_resume_exactly(self, store: MemoryStore) -> None:
        assert store.load_session("s1") is None
        scope = Scope(user="alice", agent="coder", team="run-3")
        r1 = store.append_turn("s1", [_msg("system", "be brief"), _msg("user", "hi"), _msg("assistant", "hello")],
                               scope=scope, meta={"model": "openai/gpt-4o-mini"})
        r2 = store.append_turn("s1", [_msg("user", "how are you"), _msg("assistant", "fine")], turn=2)
        assert (r1.turn, r2.turn, r2.created) == (1, 2, True)
        state = store.load_session("s1")
        assert state is not None
        assert state.turn == 2
        assert [m.content for m in state.messages] == ["be brief", "hi", "hello", "how are you", "fine"]
        assert state.meta == {"model": "openai/gpt-4o-mini"}
        assert (state.scope.user, state.scope.agent, state.scope.team) == ("alice", "coder", "run-3")
        assert [s.session_id for s in store.list_sessions(Scope(user="alice"))] == ["s1"]
        assert store.list_sessions(Scope(user="bob")) == []

    def test_turn_replay_is_idempotent_and_conflicts_are_detected(self, store: MemoryStore) -> None:
        store.append_turn("s2", [_msg("user", "one")], turn=1)
        replay = store.append_turn("s2", [_msg("user", "one")], turn=1)
        assert replay.created is False and replay.turn == 1
        with pytest.raises(ConflictError):
            store.append_turn("s2", [_msg("user", "different")], turn=1)
        with pytest.raises(ConflictError):
            store.append_turn("s2", [_msg("user", "skipped a turn")], turn=3)
        with pytest.raises(InputError):
            store.append_turn("s2", [{"role": "wizard", "content": "?"}])
        state = store.load_session("s2")
        assert state is not None and state.turn == 1 and len(state.messages) == 1

    def test_snapshot_archive_and_recall(self, store: MemoryStore) -> None:
        for i in range(1, 4):
            store.append_turn("s3", [_msg("user", f"question {i}"),
                                     {"role": "assistant", "content": None,
                                      "tool_calls": [{"id": f"c{i}", "type": "function",
                                                      "function": {"name": "grep", "arguments": "{}"}}]},
                                     {"role": "tool", "tool_call_id": f"c{i}", "content": f"result {i}"}])
        archived = [{"id": "m1", "message": _msg("user", "question 1"), "replaced_by": "sum-1", "stage": "summarize"},
                    {"id": "m2", "message": {"role": "tool", "tool_call_id": "c1",
                                             "content": "the flux capacitor needs 1.21 gigawatts"},
                     "replaced_by": "sum-1", "stage": "summarize"}]
        snapshot = [_msg("system", "summary: asked three questions"), _msg("user", "question 3"),
                    _msg("assistant", "answer 4")]  # the whole live conversation after turn 4
        receipt = store.append_turn("s3", [_msg("assistant", "answer 4")], archived=archived, snapshot=snapshot,
                                    meta={"compressions": 1})
        assert receipt.archived == 2
        again = store.append_turn("s3", [_msg("user", "q5")], archived=archived[:1])
        assert again.archived == 0, "an archived entry is stored once"
        state = store.load_session("s3")
        assert state is not None and state.turn == 5 and state.archived == 2
        assert [m.content for m in state.messages] == ["summary: asked three questions", "question 3",
                                                       "answer 4", "q5"]
        assert state.meta == {"compressions": 1}
        hits = store.recall("s3", "how many gigawatts for the flux capacitor")
        assert hits and hits[0].entry.id == "m2" and hits[0].entry.replaced_by == "sum-1"
        assert hits[0].entry.message.tool_call_id == "c1" and hits[0].turn == 4
        assert store.recall("other-session", "flux") == []
        assert [h.entry.id for h in store.list_archive("s3")] == ["m1", "m2"]
        turns = store.list_turns("s3", start=4, end=5)
        assert [t.turn for t in turns] == [4, 5] and turns[0].snapshot is not None
        assert store.delete_session("s3") is True
        assert store.load_session("s3") is None and store.list_archive("s3") == []

    def test_recall_finds_an_old_entry_behind_many_newer_ones_sharing_its_words(self, store: MemoryStore) -> None:
        from massgen_plugins.memory.relational.shortterm import RECALL_CANDIDATES

        newer = RECALL_CANDIDATES + 50  # more than recall scores: only the whole query can single it out
        archived = [{"id": f"a{i}", "message": _msg("tool", f"archived output of step {i}"),
                     "replaced_by": "sum", "stage": "summarize"} for i in range(newer + 1)]
        store.append_turn("deep", [_msg("user", "go")], archived=archived)
        hits = store.recall("deep", "archived output of step 7")
        assert hits and hits[0].entry.id == "a7", [h.entry.id for h in hits]

    # ----------------------------------------------------------------- hygiene
    def test_stats_and_check(self, store: MemoryStore) -> None:
        store.add("a fact", scope=ALICE)
        store.add("a note", kind="note", scope=Scope(agent="x"))
        store.append_turn("s4", [_msg("user", "hi")], archived=[{"id": "e", "message": _msg("user", "old")}])
        stats = store.stats()
        assert stats.memories == 2 and stats.by_kind == {"fact": 1, "note": 1}
        assert stats.by_level == {"user": 1, "agent": 1}
        assert (stats.sessions, stats.turns, stats.archived) == (1, 1, 1)
        assert store.stats(ALICE).memories == 1
        report = store.check()
        assert report.ok, report.problems
        assert report.checked["memories"] == 2 and report.checked["turns"] == 1

    def test_backup_and_restore(self, store: MemoryStore, tmp_path: Path) -> None:
        keep, _ = store.add("kept in the backup", scope=ALICE)
        store.append_turn("s5", [_msg("user", "before backup")])
        target = store.backup(str(tmp_path / "memory.backup"))
        assert Path(target).exists()
        with pytest.raises(InputError):
            store.backup(target)
        store.delete(keep.id)
        store.add("written after the backup", scope=ALICE)
        store.append_turn("s5", [_msg("user", "after backup")])
        store.restore(target)
        assert store.get(keep.id) is not None
        assert store.search("written").hits == []
        state = store.load_session("s5")
        assert state is not None and state.turn == 1
        assert store.check().ok
        store.add("the store is writable after restore", scope=ALICE)
        with pytest.raises(InputError):
            store.restore(str(tmp_path / "missing.backup"))

    # ----------------------------------------------------------------- one behaviour on every backend
    def test_a_session_without_an_acknowledged_turn_does_not_exist(self, store: MemoryStore) -> None:
        from massgen_plugins.memory.relational import RelationalMemoryStore

        if not isinstance(store, RelationalMemoryStore):
            pytest.skip("writes a raw session row")
        with store._write("test") as conn:  # what a failed first write or an old dump can leave behind
            store._q(conn, "INSERT INTO sessions (session_id, created_at, updated_at, last_turn) "
                     "VALUES ('empty', 1, 1, 0)")
        assert store.load_session("empty") is None
        assert store.list_sessions() == [] and store.find_sessions("emp") == []
        assert (store.stats().sessions, store.stats().turns) == (0, 0)
        assert store.append_turn("empty", [_msg("user", "first")]).turn == 1

    def test_turn_numbers_have_one_bound_everywhere(self, store: MemoryStore) -> None:
        store.append_turn("s6", [_msg("user", "one")])
        with pytest.raises(InputError, match="turn must be an integer from 1 to 2147483647"):
            store.append_turn("s6", [_msg("user", "far")], turn=2**31)
        assert [t.turn for t in store.list_turns("s6", end=2**64)] == [1]
        assert [t.turn for t in store.list_turns("s6", start=0, end=2**31 - 1)] == [1]
        with pytest.raises(InputError):
            store.list_turns("s6", start=-1)

    def test_stats_are_plain_numbers(self, store: MemoryStore) -> None:
        store.add("a fact", scope=ALICE)
        store.append_turn("s7", [_msg("user", "hi")])
        stats = store.stats()
        numbers = [stats.memories, stats.sessions, stats.turns, stats.archived, stats.history, stats.size_bytes]
        assert all(type(n) is int for n in numbers), [type(n) for n in numbers]
        assert stats.size_bytes is not None and f"{stats.size_bytes / 1e6:.1f} MB"  # what `memory stats` prints

    def test_archive_entries_keep_position_and_kept_flags(self, store: MemoryStore) -> None:
        archived = [{"id": f"m{i}", "message": _msg(role, f"range message {i}"), "replaced_by": "cmp_1",
                     "stage": "native", "position": i, "kept": role == "user", "tokens": 7}
                    for i, role in enumerate(["user", "assistant", "user"])]
        archived.append({"id": "plain", "message": _msg("user", "no extras"), "stage": "mask"})
        store.append_turn("s8", [_msg("user", "go")], archived=archived)
        entries = [h.entry for h in store.list_archive("s8")]
        assert [e.model_extra for e in entries] == [{"position": 0, "kept": True, "tokens": 7},
                                                    {"position": 1, "kept": False, "tokens": 7},
                                                    {"position": 2, "kept": True, "tokens": 7}, {}]
        [hit] = store.recall("s8", "range message 1")[:1]
        assert hit.entry.model_extra == {"position": 1, "kept": False, "tokens": 7}
        assert store.check().ok

    def test_lone_surrogates_and_nul_bytes_are_stored_losslessly(self, store: MemoryStore) -> None:
        odd = "tool said \ud800 and \x00 and \udfff end"
        call = {"id": "c1", "type": "function", "function": {"name": "grep", "arguments": '{"q": "\\u0000\ud83d"}'}}
        turn = [_msg("user", odd), {"role": "assistant", "content": None, "tool_calls": [call]},
                {"role": "tool", "tool_call_id": "c1", "content": odd}]
        store.append_turn("s9", turn, archived=[{"id": "a1", "message": _msg("tool", odd), "stage": "mask"}],
                          meta={"note": odd})
        state = store.load_session("s9")
        assert state is not None and state.messages[0].content == odd and state.messages[2].content == odd
        assert state.meta == {"note": odd}
        [entry] = [h.entry for h in store.list_archive("s9")]
        assert entry.message.content == odd
        assert [h.entry.id for h in store.recall("s9", "tool said end")] == ["a1"]
        record, _ = store.add(f"fact with {odd}", scope=ALICE)
        assert "\x00" not in record.text and "\ufffd" in record.text
        assert store.search("fact with end", scope=ALICE).records()[0].id == record.id
        assert store.check().ok

    def test_repair_index_changes_nothing_else(self, store: MemoryStore) -> None:
        record, _ = store.add("the index can be rebuilt", scope=ALICE)
        store.append_turn("s10", [_msg("user", "go")], archived=[{"id": "r1", "message": _msg("tool", "rebuild me")}])
        store.repair_index()
        assert store.search("rebuilt", scope=ALICE).records()[0].id == record.id
        assert store.recall("s10", "rebuild")[0].entry.id == "r1"
        assert store.check().ok and store.stats().memories == 1

    def test_ids_by_prefix(self, store: MemoryStore) -> None:
        record, _ = store.add("prefix me", scope=ALICE)
        store.append_turn("session-prefix-1", [_msg("user", "hi")])
        assert store.find_ids(record.id[:10]) == [record.id]
        assert store.find_ids("zz-no-such") == []
        assert store.find_sessions("session-prefix") == ["session-prefix-1"]
