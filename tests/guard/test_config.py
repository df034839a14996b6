"""Team/agent configuration from files: merging defaults, validation errors that say where."""

from __future__ import annotations

import pytest
from massgen_plugins.errors import InputError
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
