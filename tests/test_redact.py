"""The fast screen in front of the redaction rules never lets through what the rules would mask,
and the cached list of known secrets follows the environment and remembered keys."""

from __future__ import annotations

import random

from massgen_plugins import redact as redact_module
from massgen_plugins.redact import MASK, known_secrets, redact, redact_known, remember_secret


def fake(prefix: str, n: int = 30) -> str:
    # built at run time, so secret scanners do not flag the tree
    return prefix + "".join(chr(ord("a") + (i * 11) % 26) for i in range(n))


SECRETS = (fake("mgk-live-"), fake("tok."), "short7x", fake("Zq9_", 12))
FRAGMENTS = [
    "sk-", "sk-ant-", "sk-proj-", "AIza", "gsk_", "xai-", "://", "user:pw@", "@", "password", "PassWord",
    "passwd", "PWD", "pwd", "=", ": ", "Authorization", "AUTHORIZATION", "x-api-key", "X-Goog-Api-Key",
    "api_key", "ApiKey", "Bearer ", "…", "...", "***", "\"", "'", ",", "}", " ", "\n", "abcdefghijklmnop",
    "0123456789", "_-", "ſk-", "K", "İ", "ı", "postgresql://", "https://host/x",
    *SECRETS, *(s[:8] for s in SECRETS), *(s[:10] + "…" for s in SECRETS),
]


def test_the_screen_never_skips_text_a_rule_would_change():
    rng = random.Random(20261202)
    secrets = known_secrets(SECRETS)
    changed = 0
    for _ in range(6000):
        text = "".join(rng.choice(FRAGMENTS) for _ in range(rng.randint(1, 8)))
        full = redact_module._apply_rules(text, secrets)
        assert redact_known(text, secrets) == full, text
        changed += full != text
    assert changed > 1000  # the samples do exercise the rules


def test_text_without_a_trigger_is_returned_as_is():
    text = "Ticket T-0042 is open and assigned to team 3 (gpt-4o-mini, 12 ms)."
    assert redact(text) is text


def test_a_key_set_or_remembered_after_a_first_redaction_is_masked(monkeypatch):
    assert redact("warm the cache") == "warm the cache"
    late = fake("late-env-key-")
    monkeypatch.setenv("OPENAI_API_KEY", late)
    assert redact(f"got {late}") == f"got {MASK}"
    remembered = fake("remembered-later-")
    assert remembered not in known_secrets()
    remember_secret(remembered)
    assert redact(f"got {remembered[:20]}") == f"got {MASK}"
    monkeypatch.delenv("OPENAI_API_KEY")
    assert late not in known_secrets()
