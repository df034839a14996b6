"""Team/agent configuration from files: merging defaults, validation errors that say where."""

from __future__ import annotations

import pytest
from massgen_plugins.errors import InputError, MassgenError
from massgen_plugins.guard import AgentConfig, TeamConfig, load_config

YAML = """
team: research
defaults:
  strategy: balanced
  retry: {max_attempts: 5}
agents:
  planner:
    model: anthropic/claude-haiku-4-5
    fallbacks: [openai/gpt-4o-mini]
  coder:
    model: openai/gpt-4o-mini
    strategy: {name: aggressive, keep_recent_tokens: 2000}
    retry: {base_delay: 0.1}
"""


@pytest.mark.plugins("anthropic", "groq", "openai")
def test_yaml_with_defaults_and_per_agent_overrides(tmp_path):
    path = tmp_path / "team.yaml"
    path.write_text(YAML)
    config = load_config(path)
    assert config.team == "research"
    planner, coder = config.agents["planner"], config.agents["coder"]
    assert planner.strategy == "balanced" and planner.retry.max_attempts == 5
    assert planner.fallbacks == ["openai/gpt-4o-mini"]
    assert coder.strategy == {"name": "aggressive", "keep_recent_tokens": 2000}
    # nested defaults merge instead of being replaced
    assert (coder.retry.max_attempts, coder.retry.base_delay) == (5, 0.1)


@pytest.mark.plugins("anthropic", "groq", "openai")
def test_toml_and_json(tmp_path):
    (tmp_path / "t.toml").write_text('[agents.a]\nmodel = "openai/gpt-4o-mini"\nmax_compressions_per_turn = 2\n')
    assert load_config(tmp_path / "t.toml").agents["a"].max_compressions_per_turn == 2
    (tmp_path / "t.json").write_text('{"agents": {"a": {"model": "groq/llama-3.3-70b-versatile"}}}')
    assert load_config(tmp_path / "t.json").agents["a"].model == "groq/llama-3.3-70b-versatile"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("agents:\n  a:\n    model: gpt-4o\n", "agents.a.model: model 'gpt-4o' is not of the form provider/model"),
        ("agents:\n  a:\n    model: openai/x\n    trigger_ratio: 2\n", "agents.a.trigger_ratio"),
        ("agents:\n  a:\n    model: openai/x\n    tempreature: 1\n", "agents.a.tempreature: Extra inputs"),
        ("agents: {}\n", "'agents' must map agent names"),
        ("agents: [a, b\n", "not valid YAML"),
        ("- just a list\n", "expected a mapping at the top level"),
    ],
)
def test_invalid_files_name_the_problem(tmp_path, text, message):
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(InputError) as caught:
        load_config(path)
    assert message in str(caught.value)
    assert str(path) in str(caught.value)


def test_missing_and_unsupported_files(tmp_path):
    with pytest.raises(InputError, match="does not exist"):
        load_config(tmp_path / "nope.yaml")
    (tmp_path / "c.ini").write_text("x")
    with pytest.raises(InputError, match="unsupported configuration format"):
        load_config(tmp_path / "c.ini")


def test_python_config_validates_model_strings():
    assert AgentConfig(model="OpenAI/gpt-4o-mini").model == "openai/gpt-4o-mini"
    with pytest.raises(ValueError, match="provider/model"):
        AgentConfig(model="openai/gpt-4o", fallbacks=["nonsense"])
    with pytest.raises(InputError):
        TeamConfig.from_mapping({"agents": {"a": {"model": "openai/x", "retry": {"max_attempts": 0}}}})


# --- bad configuration fails at construction, naming the file and the field ------------------


@pytest.mark.plugins("openai")
@pytest.mark.parametrize(("kwargs", "needle"), [
    ({"strategy": "fast"}, "unknown strategy 'fast'"),
    ({"strategy": "balancd"}, "did you mean 'balanced'"),
    ({"strategy": {"name": "aggressive", "keep_recnt_tokens": 2000}}, "did you mean 'keep_recent_tokens'"),
    ({"fallbacks": ["nosuch/model"]}, "fallbacks[0]: unknown provider 'nosuch'"),
    ({"summarizer_model": "opnai/gpt-4o-mini"}, "did you mean 'openai'"),
])
def test_session_rejects_bad_configuration_at_construction(emulator_env, kwargs, needle):
    from massgen_plugins.guard import Session

    with pytest.raises(InputError) as caught:
        Session("openai/gpt-4o-mini", memory=False, run_log=False, **kwargs)
    assert needle in str(caught.value)


@pytest.mark.parametrize(("agent", "needle"), [
    ("    strategy: fast\n", "agents.a.strategy: unknown strategy 'fast'"),
    ("    fallbacks: [nosuch/model]\n", "agents.a: fallbacks[0]: unknown provider 'nosuch'"),
    ("    strategy: {name: balanced, keep_recnt_tokens: 10}\n", "did you mean 'keep_recent_tokens'"),
    ("    fallback: [openai/gpt-4o]\n", "agents.a.fallback: Extra inputs are not permitted: unknown setting; "
                                      "did you mean 'fallbacks'?"),
])
@pytest.mark.plugins("anthropic", "groq", "openai")
def test_team_files_with_bad_settings_fail_at_load_naming_file_and_field(tmp_path, agent, needle):
    path = tmp_path / "team.yaml"
    path.write_text("agents:\n  a:\n    model: openai/gpt-4o-mini\n" + agent)
    with pytest.raises(InputError) as caught:
        load_config(path)
    assert str(path) in str(caught.value) and needle in str(caught.value)


@pytest.mark.plugins("openai")
async def test_session_and_team_close_the_stores_they_opened(emulator_env, tmp_path):
    from massgen_plugins.guard import Session, Team
    from massgen_plugins.memory import open_store

    url = f"sqlite:///{tmp_path / 'mem.db'}"
    session = Session("openai/gpt-4o-mini", memory=url, run_log=False)
    await session.send("hi")
    store = session.memory.store
    session.close()
    with pytest.raises(MassgenError):
        store.load_session(session.session_id)  # closed: unusable afterwards
    team = Team({"a": AgentConfig(model="openai/gpt-4o-mini")}, memory=url, run_dir=str(tmp_path / "run"))
    await team.run({"a": "hi"})
    team_store = team.store
    team.close()
    with pytest.raises(MassgenError):
        team_store.load_session("x")
    # a store passed in stays the caller's
    own = open_store(url)
    Session("openai/gpt-4o-mini", memory=own, run_log=False).close()
    assert own.load_session(session.session_id) is not None
    own.close()
