"""Configured providers: ``[providers.NAME]`` tables of config.toml, validated with errors that name
the file and the field; a valid one is a provider like any installed one."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from massgen_plugins import configured
from massgen_plugins.cli import cli
from massgen_plugins.errors import InputError
from massgen_plugins.manager import reset_host
from massgen_plugins.providers import installed_providers, resolve_model, resolve_settings

pytestmark = pytest.mark.plugins("openai")  # drives provider plugins end to end


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("MASSGEN_PLUGINS_HOME", str(tmp_path))
    reset_host()
    yield tmp_path
    reset_host()


def write(home, text: str):
    path = home / "config.toml"
    path.write_text(text)
    return path


GOOD = '[providers.localvllm]\nkind = "openai-compatible"\nbase_url = "http://127.0.0.1:8000/v1/"\n'


def test_a_configured_endpoint_is_a_provider(home, monkeypatch):
    write(home, GOOD + 'api_key_env = "LOCALVLLM_API_KEY"\ncontext_window = 32768\n')
    info = installed_providers()["localvllm"]
    assert info.default_base_url == "http://127.0.0.1:8000/v1" and info.api_key_env == ["LOCALVLLM_API_KEY"]
    assert resolve_model("localvllm/Qwen/Qwen3-8B").model == "Qwen/Qwen3-8B"
    monkeypatch.setenv("LOCALVLLM_API_KEY", "k-123")
    monkeypatch.setenv("LOCALVLLM_BASE_URL", "http://gpu-box:8000/v1")
    settings = resolve_settings("localvllm")
    assert settings.key() == "k-123" and settings.base_url == "http://gpu-box:8000/v1"
    assert configured.load()["localvllm"].context_window == 32768


def test_a_keyless_local_server_needs_no_key(home):
    write(home, GOOD)
    assert resolve_settings("localvllm").key() is None  # no MissingCredentialsError


@pytest.mark.parametrize("text, expected", [
    ('[providers.localvllm]\nkind = "openai-compatable"\nbase_url = "http://x/v1"\n',
     "[providers.localvllm]: kind is 'openai-compatable' (did you mean 'openai-compatible'?)"),
    ('[providers.localvllm]\nkind = "openai-compatible"\n', "[providers.localvllm]: base_url is missing"),
    ('[providers.localvllm]\nkind = "openai-compatible"\nbase_url = "localhost:8000"\n',
     "base_url is 'localhost:8000'; it must be an http(s) URL"),
    (GOOD + 'base_ulr = "x"\n', "unknown field 'base_ulr' (did you mean 'base_url'?)"),
    (GOOD + 'api_key_env = "sk-live-123"\n', "api_key_env must be the NAME of an environment variable"),
    (GOOD + "context_window = -5\n", "context_window must be a positive whole number"),
    ('[providers.openai]\nkind = "openai-compatible"\nbase_url = "http://x/v1"\n', "'openai' is a bundled provider"),
    ('[providers."Local VLLM"]\nkind = "openai-compatible"\nbase_url = "http://x/v1"\n', "the name must be lower-case"),
    ("[providers.localvllm\n", "is not valid TOML"),
])
def test_bad_config_names_the_file_and_the_field(home, text, expected):
    path = write(home, text)
    with pytest.raises(InputError) as err:
        configured.load()
    assert str(path) in str(err.value) and expected in str(err.value)
    # ... and it is what a user of the provider is told, instead of "unknown provider"
    if "[providers.localvllm" in text:
        with pytest.raises(InputError) as used:
            resolve_model("localvllm/some-model")
        assert str(path) in str(used.value)


def test_the_cli_reports_a_bad_config_in_one_line_with_exit_2(home):
    write(home, '[providers.localvllm]\nkind = "vllm"\nbase_url = "http://x/v1"\n')
    result = CliRunner().invoke(cli, ["models", "--provider", "localvllm", "--offline"])
    assert result.exit_code == 2
    assert "config.toml" in result.output and "kind is 'vllm'" in result.output
    assert "Traceback" not in result.output


def test_other_providers_keep_working_with_a_broken_config(home):
    write(home, '[providers.localvllm]\nkind = "vllm"\n')
    assert resolve_model("openai/gpt-4o-mini").provider == "openai"
    with pytest.raises(InputError) as err:  # a typo elsewhere is still reported as a typo
        resolve_model("opnai/gpt-4o-mini")
    assert "unknown provider 'opnai'" in str(err.value)
