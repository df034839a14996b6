"""Two gateway processes sharing one PostgreSQL store: keys, rate windows, spend and sessions."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import httpx
import openai
import pytest
from massgen_plugins_gateway.store import PostgresGatewayStore

CLI = [sys.executable, "-m", "massgen_plugins"]


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _serve(store: str, env: dict[str, str]) -> tuple[subprocess.Popen[str], str]:
    port = _free_port()
    process = subprocess.Popen([*CLI, "serve", "--port", str(port), "--store", store], env=env, text=True,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"serve exited: {process.stderr.read()}")  # type: ignore[union-attr]
        try:
            if httpx.get(url + "/health", timeout=2).status_code == 200:
                return process, url
        except httpx.HTTPError:
            time.sleep(0.2)
    process.kill()
    raise AssertionError("serve did not become healthy")


def _early_in_a_minute(headroom: float) -> None:
    """Wait for the next minute if fewer than ``headroom`` seconds are left in this one."""
    left = 60.0 - time.time() % 60.0
    if left < headroom:
        time.sleep(left + 0.2)


@pytest.mark.postgres
def test_two_processes_share_rpm_spend_and_sessions(emulator_env, postgres_store):
    env = {**os.environ}
    created = subprocess.run([*CLI, "keys", "create", "--name", "shared", "--rpm", "3", "--store", postgres_store,
                              "--json"], capture_output=True, text=True, timeout=120, env=env)
    assert created.returncode == 0, created.stderr
    key = json.loads(created.stdout)["key"]
    (a, url_a), (b, url_b) = _serve(postgres_store, env), _serve(postgres_store, env)
    try:
        ca = openai.OpenAI(base_url=url_a + "/v1", api_key=key, max_retries=0)
        cb = openai.OpenAI(base_url=url_b + "/v1", api_key=key, max_retries=0)
        assert httpx.get(url_a + "/health").json()["pid"] != httpx.get(url_b + "/health").json()["pid"]

        # rate windows are fixed one-minute buckets: start the counted requests early in one, so
        # a slow machine cannot carry them across a minute boundary (which resets the count)
        _early_in_a_minute(headroom=30.0)

        # a session started on A is continued on B
        first = [{"role": "user", "content": "the vault code is 4417"}]
        reply = ca.chat.completions.create(model="openai/gpt-4o-mini", messages=first,
                                           extra_headers={"X-Session-Id": "shared-session"})
        second = [*first, {"role": "assistant", "content": reply.choices[0].message.content},
                  {"role": "user", "content": "repeat the code"}]
        raw = cb.chat.completions.with_raw_response.create(model="openai/gpt-4o-mini", messages=second,
                                                           extra_headers={"X-Session-Id": "shared-session"})
        assert raw.headers["x-massgen-reused-prefix"] == "2" and raw.headers["x-massgen-session"] == "shared-session"

        # two requests used the key's 3 requests per minute: one more on A, then B is refused
        ca.chat.completions.create(model="openai/gpt-4o-mini", messages=[{"role": "user", "content": "third"}])
        with pytest.raises(openai.RateLimitError) as limited:
            cb.chat.completions.create(model="openai/gpt-4o-mini", messages=[{"role": "user", "content": "fourth"}])
        assert int(limited.value.response.headers["retry-after"]) >= 1
    finally:
        for process in (a, b):
            process.terminate()
            process.wait(timeout=30)
    store = PostgresGatewayStore(postgres_store)
    try:
        record = store.find_keys("shared")[0]
        spend = store.spend(record.id)
        assert spend.requests == 3 and spend.tokens > 0  # spend from both processes
    finally:
        store.close()
