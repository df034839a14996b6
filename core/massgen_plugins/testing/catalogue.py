"""The default model catalogue of every emulated provider.

Realistic ids, windows and output caps, a few small-window test models per provider (``*-8k``,
``*-2k``) so tests can overflow cheaply, and non-chat models (embeddings, speech, moderation,
images) that appear in listings but refuse chat requests. Anthropic and Gemini list enough models
to need several pages at small page sizes.
"""

from __future__ import annotations

import copy

from .spec import EmulatedModel as M

_OPENAI = [
    M("gpt-5", 400_000, 128_000, input_limit=272_000, created=1754425777),
    M("gpt-5-mini", 400_000, 128_000, input_limit=272_000, created=1754425867),
    M("gpt-5-nano", 400_000, 128_000, input_limit=272_000, created=1754426384),
    M("gpt-4.1", 1_047_576, 32_768, created=1744316542),
    M("gpt-4.1-mini", 1_047_576, 32_768, created=1744318173),
    M("gpt-4o", 128_000, 16_384, created=1715367049),
    M("gpt-4o-mini", 128_000, 16_384, created=1721172741),
    M("o3", 200_000, 100_000, created=1744225308),
    M("o4-mini", 200_000, 100_000, created=1744225351),
    M("gpt-4", 8_192, 8_192, created=1687882411),
    M("gpt-4o-mini-8k", 8_192, 2_048, owned_by="emulator"),
    M("gpt-test-2k", 2_048, 512, owned_by="emulator"),
    M("text-embedding-3-small", 8_191, 0, kind="embedding", created=1705948997),
    M("text-embedding-3-large", 8_191, 0, kind="embedding", created=1705953180),
    M("tts-1", 4_096, 0, kind="tts", created=1681940951),
    M("whisper-1", 448, 0, kind="transcription", created=1677532384),
    M("omni-moderation-latest", 32_768, 0, kind="moderation", created=1731689265),
    M("gpt-image-1", 32_768, 0, kind="image", created=1745517030),
]

_ANTHROPIC = [
    M("claude-opus-4-5-20251101", 200_000, 64_000, display_name="Claude Opus 4.5", created=1761955200),
    M("claude-haiku-4-5-20251001", 200_000, 64_000, display_name="Claude Haiku 4.5", created=1759276800),
    M("claude-sonnet-4-5-20250929", 200_000, 64_000, display_name="Claude Sonnet 4.5", created=1759104000),
    M("claude-opus-4-1-20250805", 200_000, 32_000, display_name="Claude Opus 4.1", created=1754352000),
    M("claude-opus-4-20250514", 200_000, 32_000, display_name="Claude Opus 4", created=1747180800),
    M("claude-sonnet-4-20250514", 200_000, 64_000, display_name="Claude Sonnet 4", created=1747180800),
    M("claude-3-7-sonnet-20250219", 200_000, 64_000, display_name="Claude Sonnet 3.7", created=1739923200),
    M("claude-3-5-haiku-20241022", 200_000, 8_192, display_name="Claude Haiku 3.5", created=1729555200),
    M("claude-3-haiku-20240307", 200_000, 4_096, display_name="Claude Haiku 3", created=1709769600),
    M("claude-tiny-8k", 8_192, 2_048, display_name="Emulator Claude 8k", created=1704067200),
    M("claude-tiny-2k", 2_048, 512, display_name="Emulator Claude 2k", created=1704067200),
]

_GEMINI_METHODS = ["generateContent", "countTokens", "createCachedContent", "batchGenerateContent"]
_GEMINI = [
    M("gemini-3-pro-preview", 1_048_576, 65_536, display_name="Gemini 3 Pro Preview", extra={"thinking": True}),
    M("gemini-2.5-pro", 1_048_576, 65_536, display_name="Gemini 2.5 Pro", extra={"thinking": True}),
    M("gemini-2.5-flash", 1_048_576, 65_536, display_name="Gemini 2.5 Flash", extra={"thinking": True}),
    M("gemini-2.5-flash-lite", 1_048_576, 65_536, display_name="Gemini 2.5 Flash-Lite", extra={"thinking": True}),
    M("gemini-2.0-flash", 1_048_576, 8_192, display_name="Gemini 2.0 Flash"),
    M("gemini-2.0-flash-lite", 1_048_576, 8_192, display_name="Gemini 2.0 Flash-Lite"),
    M("gemini-flash-latest", 1_048_576, 65_536, display_name="Gemini Flash Latest", extra={"thinking": True}),
    M("gemini-tiny-8k", 8_192, 2_048, display_name="Emulator Gemini 8k"),
    M("gemini-tiny-2k", 2_048, 512, display_name="Emulator Gemini 2k"),
    M("gemini-2.5-flash-preview-tts", 8_192, 16_384, kind="tts", display_name="Gemini 2.5 Flash Preview TTS"),
    M("gemini-embedding-001", 2_048, 1, kind="embedding", display_name="Gemini Embedding 001"),
    M("text-embedding-004", 2_048, 1, kind="embedding", display_name="Text Embedding 004"),
    M("imagen-4.0-generate-001", 480, 8_192, kind="image", display_name="Imagen 4"),
]

_GROQ = [
    M("llama-3.3-70b-versatile", 131_072, 32_768, owned_by="Meta", created=1733447754),
    M("llama-3.1-8b-instant", 131_072, 131_072, owned_by="Meta", created=1693721698),
    M("openai/gpt-oss-120b", 131_072, 65_536, owned_by="OpenAI", created=1754408224),
    M("openai/gpt-oss-20b", 131_072, 65_536, owned_by="OpenAI", created=1754407957),
    M("qwen/qwen3-32b", 131_072, 40_960, owned_by="Alibaba Cloud", created=1748396646),
    M("moonshotai/kimi-k2-instruct-0905", 262_144, 16_384, owned_by="Moonshot AI", created=1757046093),
    M("meta-llama/llama-4-scout-17b-16e-instruct", 131_072, 8_192, owned_by="Meta", created=1743874824),
    M("llama-tiny-8k", 8_192, 2_048, owned_by="emulator"),
    M("whisper-large-v3", 448, 448, kind="transcription", owned_by="OpenAI", created=1693721698),
    M("whisper-large-v3-turbo", 448, 448, kind="transcription", owned_by="OpenAI", created=1728413088),
    M("playai-tts", 8_192, 8_192, kind="tts", owned_by="PlayAI", created=1740682771),
    M("meta-llama/llama-guard-4-12b", 131_072, 1_024, kind="moderation", owned_by="Meta", created=1746743847),
]

_XAI = [
    M("grok-4-0709", 256_000, 64_000, owned_by="xai", created=1752019200),
    M("grok-4-fast-reasoning", 2_000_000, 30_000, owned_by="xai", created=1758240000),
    M("grok-code-fast-1", 256_000, 10_000, owned_by="xai", created=1756166400),
    M("grok-3", 131_072, 16_384, owned_by="xai", created=1743724800),
    M("grok-3-mini", 131_072, 16_384, owned_by="xai", created=1743724800),
    M("grok-tiny-8k", 8_192, 2_048, owned_by="emulator"),
    M("grok-2-image-1212", 8_192, 0, kind="image", owned_by="xai", created=1736726400),
]

_NEBIUS = [
    M("meta-llama/Llama-3.3-70B-Instruct", 131_072, 16_384, owned_by="system"),
    M("meta-llama/Meta-Llama-3.1-8B-Instruct", 131_072, 16_384, owned_by="system"),
    M("Qwen/Qwen3-235B-A22B-Instruct-2507", 262_144, 32_768, owned_by="system"),
    M("deepseek-ai/DeepSeek-V3-0324", 163_840, 16_384, owned_by="system"),
    M("openai/gpt-oss-120b", 131_072, 32_768, owned_by="system"),
    M("emulator/tiny-8k", 8_192, 2_048, owned_by="emulator"),
    M("BAAI/bge-en-icl", 32_768, 0, kind="embedding", owned_by="system"),
]

_OPENROUTER = [
    M("openai/gpt-4o", 128_000, 16_384, display_name="OpenAI: GPT-4o"),
    M("openai/gpt-4o-mini", 128_000, 16_384, display_name="OpenAI: GPT-4o-mini"),
    M("anthropic/claude-sonnet-4.5", 1_000_000, 64_000, display_name="Anthropic: Claude Sonnet 4.5"),
    M("anthropic/claude-haiku-4.5", 200_000, 64_000, display_name="Anthropic: Claude Haiku 4.5"),
    M("google/gemini-2.5-flash", 1_048_576, 65_535, display_name="Google: Gemini 2.5 Flash"),
    M("meta-llama/llama-3.3-70b-instruct", 131_072, 16_384, display_name="Meta: Llama 3.3 70B Instruct"),
    M("deepseek/deepseek-chat-v3.1", 163_840, 163_840, display_name="DeepSeek: DeepSeek V3.1"),
    M("mistralai/mistral-small-3.2-24b-instruct", 131_072, 131_072, display_name="Mistral: Small 3.2 24B"),
    M("emulator/tiny-8k", 8_192, 2_048, display_name="Emulator: Tiny 8k"),
]

# self-hosted servers: the window is what the server was started with (vLLM's --max-model-len,
# Ollama's num_ctx), the output cap is the window itself
_VLLM = [
    M("Qwen/Qwen3-8B", 32_768, 32_768, owned_by="vllm"),
    M("meta-llama/Llama-3.1-8B-Instruct", 131_072, 131_072, owned_by="vllm"),
    M("vllm-tiny-4k", 4_096, 4_096, owned_by="vllm"),
]

_OLLAMA = [
    M("llama3.2:latest", 8_192, 8_192, owned_by="library", extra={"ollama": {"family": "llama", "trained": 131_072}}),
    M("qwen3:8b", 40_960, 40_960, owned_by="library", extra={"ollama": {"family": "qwen3", "trained": 40_960}}),
]

_DEFAULTS: dict[str, list[M]] = {
    "openai": _OPENAI,
    "anthropic": _ANTHROPIC,
    "gemini": _GEMINI,
    "groq": _GROQ,
    "xai": _XAI,
    "nebius": _NEBIUS,
    "openrouter": _OPENROUTER,
    "vllm": _VLLM,
    "ollama": _OLLAMA,
}


def default_catalogue() -> dict[str, list[M]]:
    """A fresh copy of every provider's default catalogue (safe to mutate)."""
    return {provider: copy.deepcopy(models) for provider, models in _DEFAULTS.items()}


def find(models: list[M], model_id: str) -> M | None:
    """The model ``model_id`` names: exact id, else a dated id it is the alias of
    (``claude-haiku-4-5`` → ``claude-haiku-4-5-20251001``)."""
    for m in models:
        if m.id == model_id:
            return m
    for m in models:
        if m.id.startswith(model_id + "-") and m.id[len(model_id) + 1:].isdigit():
            return m
    return None
