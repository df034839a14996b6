"""The estimate used when tiktoken's encoding files are missing never under-counts: checked
against exact o200k counts on every class of text that trips byte-pair estimates up."""

from __future__ import annotations

import base64
import json
import pathlib
import random

import pytest
import tiktoken
from massgen_plugins.tokens.tokenizers import estimate_tokens

_rnd = random.Random(2026)
_EMOJI = "😀😂🤣🥰😍🤩🤔🤯🥳😎🤓🧐👍🏽👨‍👩‍👧‍👦🏳️‍🌈🇯🇵🇫🇷❤️‍🔥🫠🫶🏻🎉🔥✅❌⚠️"

CLASSES = {
    "emoji": "".join(_rnd.choice(_EMOJI) for _ in range(500)),
    "emoji in text": " ".join(_rnd.choice(["great", "ok", "🎉", "🔥🔥", "👍🏽", "lol 😂", "🇯🇵"]) for _ in range(300)),
    "Chinese": "我们正在解决以下问题。请在存储库中找到相关文件并修复错误，然后运行测试以确认修复是否有效。" * 20,
    "Japanese": "これはテストです。ファイルを開いて、関数の引数を確認してください。東京都の天気は晴れです。" * 20,
    "Korean": "안녕하세요. 이 파일을 열어서 함수의 인수를 확인하십시오. 서울의 날씨는 맑습니다." * 20,
    "base64": base64.b64encode(_rnd.randbytes(3000)).decode(),
    "base64 lines": "\n".join(base64.b64encode(_rnd.randbytes(57)).decode() for _ in range(60)),
    "hex": _rnd.randbytes(2000).hex(),
    "digits": "".join(_rnd.choice("0123456789") for _ in range(3000)),
    "numbers with separators": ", ".join(str(_rnd.randint(0, 10 ** _rnd.randint(1, 9))) for _ in range(600)),
    "spaced digits": " ".join(_rnd.choice("0123456789") for _ in range(1500)),
    "floats": " ".join(f"{_rnd.uniform(-1e4, 1e4):.6f}" for _ in range(400)),
    "Python": pathlib.Path(__file__).read_text() * 2,
    "JSON": json.dumps([{"id": _rnd.randint(0, 10**9), "name": f"item_{i}", "score": _rnd.random()} for i in range(150)]),
    "minified JS": "function(a,b){return a&&b?a.map(function(c){return c*2}):[]};var x={k:1,v:[1,2,3]};" * 40,
    "runs of spaces": "".join("x" + " " * _rnd.randint(1, 40) for _ in range(200)),
    "tabs and newlines": "".join(_rnd.choice(["\t", "\n", "  ", "\t\t", "\n\n\n", " \n"]) for _ in range(1500)) + "end",
    "only spaces": " " * 5000,
    "only newlines": "\n" * 3000,
    "random-case ids": " ".join("".join(_rnd.choice("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
                                        for _ in range(_rnd.randint(5, 20))) for _ in range(300)),
    "punctuation": "".join(_rnd.choice("!@#$%^&*()_+-=[]{};':\",./<>?\\|`~") for _ in range(3000)),
    "math and box drawing": "∀x∈ℝ: ∑ᵢ₌₁ⁿ xᵢ² ≥ 0 ∧ ∫₀^∞ e^{-x} dx = 1 ≈ π ┌──┬──┐│ab│cd│└──┴──┘ " * 40,
    "Russian": "Это тестовый текст на русском языке. Откройте файл и проверьте аргументы функции. " * 20,
    "Hindi": "यह हिंदी में एक परीक्षण पाठ है। फ़ाइल खोलें और फ़ंक्शन के तर्कों की जाँच करें। " * 20,
    "English prose": "The quick brown fox jumps over the lazy dog while the committee deliberates. " * 40,
}


@pytest.fixture(scope="module")
def o200k():
    return tiktoken.get_encoding("o200k_base")


@pytest.mark.parametrize("name", list(CLASSES))
def test_the_estimate_never_under_counts(name, o200k):
    text = CLASSES[name]
    exact = len(o200k.encode_ordinary(text))
    assert estimate_tokens(text) >= exact, f"{name}: estimate {estimate_tokens(text)} < exact {exact}"


@pytest.mark.parametrize("name", ["English prose", "Python", "JSON", "base64", "emoji", "digits", "Chinese"])
def test_the_estimate_stays_usable_on_common_text(name, o200k):
    text = CLASSES[name]
    assert estimate_tokens(text) <= 2.0 * len(o200k.encode_ordinary(text))


@pytest.mark.parametrize("piece", ["", " ", "a", "😀", "123", "\n", "HTB{l00k_47}", "x" * 10_000])
def test_small_and_edge_inputs_are_bounded_too(piece, o200k):
    assert estimate_tokens(piece) >= len(o200k.encode_ordinary(piece))
