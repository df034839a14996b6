"""The emulator as a whole: addresses, env, catalogue reset, request log, fixtures, standalone CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import anthropic
import groq
import openai
import pytest
from massgen_plugins.testing import PROVIDERS, EmulatedModel, Emulator, Fault


def test_env_and_base_urls(emu):
    env = emu.env()
    assert set(env) == {f"{p.upper()}_{suffix}" for p in PROVIDERS for suffix in ("BASE_URL", "API_KEY")} | {
        "MASSGEN_PLUGINS_CACHE_DIR"}
    assert os.path.isdir(env["MASSGEN_PLUGINS_CACHE_DIR"])  # the emulator's private model cache
    assert env["OPENAI_BASE_URL"] == emu.url + "/openai/v1"
    assert env["GROQ_BASE_URL"] == emu.url + "/groq"
    assert env["OPENROUTER_BASE_URL"] == emu.url + "/openrouter/api/v1"
    assert env["ANTHROPIC_API_KEY"] == "test-anthropic-key"
    with pytest.raises(ValueError, match="unknown provider"):
        emu.base_url("cohere")


def test_clear_restores_everything(emu):
    emu.set_models("openai", [EmulatedModel("x", 10)])
    emu.inject(Fault("drop"))
    emu.clear()
    assert "gpt-4o" in [m.id for m in emu.models("openai")]
    assert emu.faults == [] and emu.requests == []


def test_clear_faults_keeps_log_and_catalogue(emu, openai_client):
    emu.add_model("openai", EmulatedModel("kept", 1000, 100))
    emu.inject(Fault("server_error", provider="openai", times=None))
    with pytest.raises(openai.InternalServerError):
        openai_client.models.list()
    emu.clear_faults()
    assert "kept" in [m.id for m in openai_client.models.list()]
    assert [r.status for r in emu.requests] == [500, 200]


def test_add_model(emu, openai_client):
    emu.add_model("openai", EmulatedModel("my-model", 1000, 100, extra={"note": "x"}))
    assert openai_client.models.retrieve("my-model").note == "x"


def test_paths_are_recorded_as_the_provider_sees_them(emulator_env):
    emu = emulator_env
    openai.OpenAI(max_retries=0).chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "a"}])
    anthropic.Anthropic(max_retries=0).messages.create(model="claude-tiny-8k", max_tokens=5,
                                                       messages=[{"role": "user", "content": "a"}])
    groq.Groq(max_retries=0).models.list()
    openai.OpenAI(base_url=os.environ["OPENROUTER_BASE_URL"], api_key=os.environ["OPENROUTER_API_KEY"],
                  max_retries=0).models.list()
    assert [(r.provider, r.path) for r in emu.requests] == [
        ("openai", "/v1/chat/completions"), ("anthropic", "/v1/messages"), ("groq", "/openai/v1/models"),
        ("openrouter", "/api/v1/models")]
    assert all(r.status == 200 for r in emu.requests)
    sent = emu.requests[1].headers
    assert (sent.get("x-api-key") or sent["authorization"]).startswith("<redacted")
    assert "test-anthropic-key" not in json.dumps([r.headers for r in emu.requests])


def test_emulator_env_sets_home(emulator_env, tmp_path_factory):
    home = os.environ["MASSGEN_PLUGINS_HOME"]
    assert os.path.isdir(home) and not os.listdir(home)
    assert os.environ["GEMINI_BASE_URL"] == emulator_env.base_url("gemini")


def test_emulator_is_reusable_and_stops(tmp_path):
    emu = Emulator()
    with pytest.raises(RuntimeError, match="not running"):
        _ = emu.url
    with emu:
        url = emu.base_url("openai")
        assert openai.OpenAI(base_url=url, api_key="k", max_retries=0).models.list().data
    with pytest.raises(openai.APIConnectionError):
        openai.OpenAI(base_url=url, api_key="k", max_retries=0, timeout=5).models.list()


def test_stop_releases_a_pending_hang():
    import threading

    emu = Emulator().start()
    emu.inject(Fault("hang", seconds=300))
    client = openai.OpenAI(base_url=emu.base_url("openai"), api_key="k", max_retries=0, timeout=60)
    outcome: list[object] = []
    thread = threading.Thread(target=lambda: outcome.append(_try(client)))
    thread.start()
    while not emu.requests:
        thread.join(timeout=0.05)
    emu.stop()
    thread.join(timeout=30)
    assert not thread.is_alive() and outcome


def _try(client):
    try:
        return client.models.list()
    except openai.APIError as exc:
        return exc


def test_emulate_cli_serves_real_sdk_calls(tmp_path):
    env = {**os.environ, "TIKTOKEN_CACHE_DIR": os.environ.get("TIKTOKEN_CACHE_DIR", "")}
    proc = subprocess.Popen([sys.executable, "-c",
                             "from massgen_plugins.cli import main; main()", "emulate", "--port", "0", "--json"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        line = proc.stdout.readline()
        info = json.loads(line)
        assert set(info["base_urls"]) == set(PROVIDERS)
        client = openai.OpenAI(base_url=info["base_urls"]["openai"], api_key=info["env"]["OPENAI_API_KEY"],
                               max_retries=0, timeout=20)
        reply = client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "ping"}])
        assert reply.choices[0].message.content == "emulated reply from gpt-4o to: ping"
        messages = anthropic.Anthropic(base_url=info["base_urls"]["anthropic"], api_key="k", max_retries=0)
        assert messages.models.list(limit=2).data
    finally:
        proc.terminate()
        proc.wait(timeout=20)
    assert proc.returncode == 0


def test_emulate_cli_human_output(tmp_path):
    proc = subprocess.Popen([sys.executable, "-c", "from massgen_plugins.cli import main; main()", "emulate"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lines = []
    try:
        while True:
            line = proc.stdout.readline()
            lines.append(line)
            if not line or line.startswith("Press Ctrl-C"):
                break
    finally:
        proc.terminate()
        proc.wait(timeout=20)
    text = "".join(lines)
    assert "listening on http://127.0.0.1:" in text
    exports = [ln for ln in lines if ln.startswith("export ")]
    assert len(exports) == 15 and any(ln.startswith("export OPENROUTER_BASE_URL=http://") for ln in exports)
    assert any(ln.startswith("export MASSGEN_PLUGINS_CACHE_DIR=") for ln in exports)  # its own model cache


def test_emulate_cli_port_in_use_is_input_error():
    with Emulator() as emu:
        result = subprocess.run([sys.executable, "-c", "from massgen_plugins.cli import main; main()", "emulate",
                                 "--port", str(emu.port)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "cannot listen on 127.0.0.1" in result.stderr and "Traceback" not in result.stderr


def test_package_import_stays_light():
    code = ("import sys, massgen_plugins.testing as t; t.Emulator; "
            "bad = [m for m in ('openai', 'anthropic', 'groq', 'google.genai', 'tiktoken', 'pydantic') "
            "if m in sys.modules]; print(bad)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "[]", out.stderr
