"""Keys handed over in code (``Session(api_keys=...)``) never show in exceptions, recorded
attempts or the run log -- nor do the truncated echoes of them servers send back."""

from __future__ import annotations

import json

import pytest
from massgen_plugins.guard import AllModelsFailedError, Session
from massgen_plugins.redact import redact, remember_secret
from massgen_plugins.testing import Fault

pytestmark = pytest.mark.plugins("openai")  # drives provider plugins end to end


def fake_key(prefix: str) -> str:
    # built at run time, so secret scanners do not flag the tree
    return prefix + "".join(chr(ord("a") + (i * 7) % 26) for i in range(40))


def echo_fault(text: str) -> Fault:
    body = {"error": {"message": text, "type": "invalid_request_error", "param": None, "code": "invalid_api_key"}}
    return Fault(kind="custom", provider="openai", status=401, body=body, times=None)


@pytest.mark.parametrize("echo", ["full", "first20", "ellipsis"])
async def test_a_key_given_in_code_never_leaks_into_errors_or_the_run_log(emulator_env, tmp_path, echo):
    key = fake_key("mgk_live_")
    shown = {"full": key, "first20": key[:20], "ellipsis": f"{key[:14]}…{key[-4:]}"}[echo]
    emulator_env.inject(echo_fault(f"Incorrect API key provided: {shown}. You can find your API key in your account."))
    session = Session("openai/gpt-4o-mini", api_keys={"openai": key}, memory=False, run_log=str(tmp_path / "run"),
                      retry={"base_delay": 0.01, "max_attempts": 2})
    with pytest.raises(AllModelsFailedError) as caught:
        await session.send("hi")
    session.close()
    texts = [str(caught.value), *(a.message for a in caught.value.attempts)]
    texts.append((tmp_path / "run" / "events.jsonl").read_text() if (tmp_path / "run" / "events.jsonl").exists()
                 else "\n".join(p.read_text() for p in (tmp_path / "run").rglob("*") if p.is_file()))
    for text in texts:
        assert key[:12] not in text and key[-8:] not in text, text
    assert "Incorrect API key provided" in str(caught.value)  # the rest of the message is kept


def test_truncated_echoes_of_known_and_key_shaped_secrets_are_masked():
    key = fake_key("zz-")
    remember_secret(key)
    assert key[:20] not in redact(f"bad key {key[:20]}")
    assert redact(f"key {key[:12]}...{key[-3:]} rejected") == "key [REDACTED] rejected"
    shaped = "sk-" + "abc"
    assert redact(f"Incorrect API key provided: {shaped}…xyz.") == "Incorrect API key provided: [REDACTED]."
    assert redact("the word sk-ip is fine") == "the word sk-ip is fine"
    assert json.loads(redact(json.dumps({"k": key})))["k"] == "[REDACTED]"


def test_passwords_in_store_urls_and_parameters_are_masked():
    text = (
        "store=postgresql://massgen:hunter2-Very-Secret@db.internal:5432/massgen?schema=a "
        "dsn='host=db user=massgen password=hunter2-Very-Secret' other=https://example.org/x"
    )
    out = redact(text)
    assert "hunter2" not in out
    assert "postgresql://massgen:[REDACTED]@db.internal:5432/massgen?schema=a" in out  # user and host stay
    assert "password=[REDACTED]" in out
    assert "https://example.org/x" in out  # a URL without credentials is left alone
