"""The `serve` and `keys` commands as users run them (real subprocesses), and /metrics."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time

import httpx
import openai
import pytest

CLI = [sys.executable, "-m", "massgen_plugins"]


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=120, env=env)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_healthy(url: str, process: subprocess.Popen[str], seconds: float = 60.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"serve exited with {process.returncode}: {process.stderr.read()}")  # type: ignore[union-attr]
        try:
            if httpx.get(url + "/health", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise AssertionError("the gateway did not become healthy in time")


def test_keys_create_list_revoke(emulator_env, tmp_path):
    store = f"sqlite:///{tmp_path / 'gw.db'}"
    created = run("keys", "create", "--name", "ci-bot", "--rpm", "5", "--models", "openai/*", "--store", store,
                  "--json")
    assert created.returncode == 0, created.stderr
    data = json.loads(created.stdout)
    assert set(data) == {"id", "key"} and data["key"].startswith("sk-mgp-")
    assert data["key"] not in (tmp_path / "gw.db").read_bytes().decode("latin-1")  # stored hashed
    assert oct((tmp_path / "gw.db").stat().st_mode & 0o777) == "0o600"

    listed = json.loads(run("keys", "list", "--store", store, "--json").stdout)
    assert [(k["id"], k["name"], k["rpm"], k["models"]) for k in listed] == [(data["id"], "ci-bot", 5, "openai/*")]
    assert data["key"] not in json.dumps(listed)

    table = run("keys", "list", "--store", store)
    assert "ci-bot" in table.stdout and data["key"] not in table.stdout

    revoked = run("keys", "revoke", "ci-bot", "--store", store)
    assert revoked.returncode == 0 and data["id"] in revoked.stdout
    assert json.loads(run("keys", "list", "--store", store, "--json").stdout) == []
    again = run("keys", "revoke", data["id"], "--store", store)
    assert again.returncode == 2 and "already revoked" in again.stderr and "Traceback" not in again.stderr


@pytest.mark.parametrize("args, message", [
    (["--name", "x", "--rpm", "0"], "--rpm must be a positive integer"),
    (["--name", "", "--json"], "--name must be 1 to 100"),
    (["--name", "x", "--store", "mysql://db"], "unsupported gateway store"),
])
def test_keys_create_bad_input_exits_2(emulator_env, tmp_path, args, message):
    if "--store" not in args:
        args = [*args, "--store", f"sqlite:///{tmp_path / 'gw.db'}"]
    done = run("keys", "create", *args)
    assert done.returncode == 2 and message in done.stderr and len(done.stderr.strip().splitlines()) == 1


def test_serve_with_two_workers_aggregates_metrics(emulator_env, tmp_path):
    port = free_port()
    env = {**os.environ, "MASSGEN_PLUGINS_MASTER_KEY": "mgp-master-for-serve-test-0001"}
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    process = subprocess.Popen([*CLI, "serve", "--port", str(port), "--workers", "2", "--store",
                                f"sqlite:///{tmp_path / 'gw.db'}"], env=env, text=True,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(url, process)
        oa = openai.OpenAI(base_url=url + "/v1", api_key=env["MASSGEN_PLUGINS_MASTER_KEY"], max_retries=0)
        for i in range(6):
            oa.chat.completions.create(model="openai/gpt-4o-mini", messages=[{"role": "user", "content": f"n{i}"}])
        with pytest.raises(openai.AuthenticationError):
            openai.OpenAI(base_url=url + "/v1", api_key="wrong", max_retries=0).chat.completions.create(
                model="openai/gpt-4o-mini", messages=[{"role": "user", "content": "x"}])
        pids = {httpx.get(url + "/health", timeout=5).json()["pid"] for _ in range(20)}
        text = httpx.get(url + "/metrics", timeout=5).text
    finally:
        process.terminate()
        process.wait(timeout=30)
    ok = sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
             if line.startswith("massgen_gateway_requests_total{") and 'status="200"' in line)
    refused = [line for line in text.splitlines()
               if line.startswith("massgen_gateway_requests_total{") and 'status="401"' in line]
    assert ok == 6.0, text  # all workers' samples, whichever worker answered the scrape
    assert refused
    assert 'massgen_gateway_tokens_total{direction="input"' in text or "massgen_gateway_tokens_total{" in text
    assert len(pids) >= 1


def test_metrics_by_provider_model_key(gateway, new_key, emu):
    from massgen_plugins.testing import Fault

    key = new_key(name="metrics-key", rpm=1)
    oa = openai.OpenAI(base_url=gateway.url + "/v1", api_key=key, max_retries=0)
    emu.inject(Fault("rate_limit", provider="openai", times=2, retry_after=0.01))  # fast path, then a retry
    oa.chat.completions.create(model="openai/gpt-4o-mini", messages=[{"role": "user", "content": "count me"}])
    with pytest.raises(openai.RateLimitError):
        oa.chat.completions.create(model="openai/gpt-4o-mini", messages=[{"role": "user", "content": "again"}])
    text = httpx.get(gateway.url + "/metrics", timeout=5).text
    labels = 'key="metrics-key",model="openai/gpt-4o-mini",provider="openai"'
    assert f'massgen_gateway_requests_total{{api="openai",{labels},status="200"}} 1.0' in text
    assert 'massgen_gateway_retries_total{key="metrics-key",kind="rate_limit",model="openai/gpt-4o-mini",' \
           'provider="openai"} 1.0' in text
    assert 'massgen_gateway_rate_limited_total{key="metrics-key",reason="rpm"} 1.0' in text
    assert f'massgen_gateway_tokens_total{{direction="output",{labels}}}' in text
    assert key not in text


def test_a_failure_after_streamed_output_ends_the_stream_with_an_error(gateway, emu):
    from massgen_plugins.testing import Fault

    emu.inject(Fault("stream_error", provider="openai", error_type="server_error", after_events=3, times=None))
    oa = openai.OpenAI(base_url=gateway.url + "/v1", api_key=gateway.master, max_retries=0)
    received = []
    with pytest.raises(openai.APIError):
        for chunk in oa.chat.completions.create(model="openai/gpt-4o-mini", stream=True,
                                                messages=[{"role": "user", "content": "partial then boom"}]):
            received.append(chunk)
    assert any(c.choices and c.choices[0].delta.content for c in received)
    assert len(emu.requests_for("openai", "/chat/completions")) == 1  # no silent retry under text already shown


def test_admin_endpoints_need_the_master_key(gateway, new_key):
    key = new_key(name="plain")
    refused = httpx.post(gateway.url + "/admin/keys", json={"name": "x"}, headers={"authorization": f"Bearer {key}"})
    assert refused.status_code == 403
    made = httpx.post(gateway.url + "/admin/keys", json={"name": "remote", "rpm": 10},
                      headers={"authorization": f"Bearer {gateway.master}"})
    assert made.status_code == 201 and made.json()["key"].startswith("sk-mgp-")
    gone = httpx.delete(gateway.url + f"/admin/keys/{made.json()['id']}",
                        headers={"x-api-key": gateway.master})
    assert gone.status_code == 200 and gone.json()["revoked"]
    listed = httpx.get(gateway.url + "/admin/keys", headers={"x-api-key": gateway.master}).json()["data"]
    assert {k["name"] for k in listed} == {"plain", "remote"}


@pytest.mark.parametrize("config, message", [
    ('[gateway]\nstrategy = "balanced"\nunknown_knob = 1\n', "gateway.unknown_knob: Extra inputs are not permitted"),
    ('[gateway.aliases]\nfast = "not-a-model-string"\n', "is not of the form provider/model"),
    ('[gateway.models."openai/gpt-4o-mini"]\ntrigger_ratio = 3\n', "trigger_ratio"),
    ("[gateway\n", "is not valid TOML"),
])
def test_serve_refuses_a_broken_gateway_table_with_one_line(write_config, tmp_path, config, message):
    path = write_config(config)
    done = run("serve", "--port", "0", "--store", f"sqlite:///{tmp_path / 'gw.db'}")
    assert done.returncode == 2, done.stderr
    assert message in done.stderr and str(path) in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and "Traceback" not in done.stderr


def test_serve_refuses_an_unreachable_store(emulator_env):
    done = run("serve", "--port", "0", "--store", "postgresql://nobody@127.0.0.1:9/none?connect_timeout=2")
    assert done.returncode == 2 and "cannot connect to the gateway store" in done.stderr
