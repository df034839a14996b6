"""The built-in ``count_tokens`` plugin answers through the hook for any model."""

from __future__ import annotations

from massgen_plugins.manager import get_hooks
from massgen_plugins.types import TokenCountRequest


def test_builtin_counter_answers_for_models_no_plugin_counts():
    request = TokenCountRequest(model="nebius/some-new-model", messages=[{"role": "user", "content": "hi there"}])
    chosen = get_hooks().count_tokens(request)
    assert chosen.value is not None and chosen.value.tokens > 0
    assert chosen.value.method  # says how it counted
    assert chosen.value.exact is False and chosen.value.margin > 0


def test_default_plugin_is_cheap_to_import():
    import subprocess
    import sys

    code = ("import sys; import massgen_plugins.default_plugins.count_tokens_local, "
            "massgen_plugins.default_plugins.compress_mask, massgen_plugins.default_plugins.compress_summarize, "
            "massgen_plugins.default_plugins.compress_extract, massgen_plugins.default_plugins.compress_truncate; "
            "print(sorted(m for m in ('pydantic', 'tiktoken', 'openai', 'anthropic') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "[]"
