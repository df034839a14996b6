"""The gateway measures its own added latency: a Server-Timing header, an overhead histogram in
/metrics, and the per-request figures on the run log's call_end."""

from __future__ import annotations

import re

import httpx
import pytest


def metric(text: str, phase: str, suffix: str) -> float:
    total = 0.0
    for line in text.splitlines():
        if line.startswith(f"massgen_gateway_overhead_seconds_{suffix}{{") and f'phase="{phase}"' in line:
            total += float(line.rsplit(" ", 1)[1])
    return total


@pytest.mark.parametrize("stream", [True, False])
def test_fast_path_reports_its_own_time(gateway, stream):
    body = {"model": "openai/gpt-4o-mini", "stream": stream, "max_tokens": 32,
            "messages": [{"role": "user", "content": "time this please"}]}
    headers = {"authorization": f"Bearer {gateway.master}"}
    with httpx.Client(timeout=30) as client:
        client.post(gateway.url + "/v1/chat/completions", json=body, headers=headers).read()  # warm (tokenizer load)
        before = client.get(gateway.url + "/metrics").text
        with client.stream("POST", gateway.url + "/v1/chat/completions", json=body, headers=headers) as response:
            assert response.status_code == 200
            timing = response.headers["server-timing"]
            chunks = [line for line in response.iter_lines() if line.startswith("data: {")]
        scraped = client.get(gateway.url + "/metrics").text
    match = re.match(r'gateway;dur=([0-9.]+);desc="received to upstream sent", upstream;dur=([0-9.]+)', timing)
    assert match, timing
    assert 0 < float(match.group(1)) < 500 and float(match.group(2)) > 0
    end = [e for e in gateway.events() if e["type"] == "call_end"][-1]
    spent = end["data"]["overhead_ms"]
    assert end["data"]["path"] == "passthrough"
    assert spent["before_upstream"] > 0 and spent["relay"] > 0
    assert spent["total"] == pytest.approx(spent["before_upstream"] + spent["relay"], abs=1e-3)
    def delta(phase: str, suffix: str) -> float:
        return metric(scraped, phase, suffix) - metric(before, phase, suffix)

    assert delta("request", "count") == 1 and delta("before_upstream", "count") == 1
    # streamed: one relay observation per block of events relayed; not streamed: one for the body
    relays = delta("relay", "count")
    assert (1 <= relays <= len(chunks) + 1) if stream else relays == 1
    assert delta("request", "sum") * 1000 == pytest.approx(spent["total"], rel=1e-3, abs=1e-3)


@pytest.mark.parametrize("stream", [True, False])
def test_guarded_path_reports_the_time_before_its_first_provider_call(gateway, stream):
    body = {"model": "openai/gpt-4o-mini", "stream": stream, "max_tokens": 32,
            "messages": [{"role": "user", "content": "guard and time this"}]}
    headers = {"authorization": f"Bearer {gateway.master}", "x-session-id": f"timed-{stream}"}
    with httpx.Client(timeout=30) as client:
        with client.stream("POST", gateway.url + "/v1/chat/completions", json=body, headers=headers) as response:
            assert response.status_code == 200
            timing = response.headers["server-timing"]
            response.read()
    match = re.fullmatch(r'gateway;dur=([0-9.]+);desc="received to first guarded provider call"', timing)
    assert match and float(match.group(1)) > 0, timing
