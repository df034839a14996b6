"""Self-hosted OpenAI-compatible servers: vLLM and Ollama.

* **vLLM** (``{url}/vllm/v1``): ``GET /models`` states each model's window as ``max_model_len``;
  errors use vLLM's flat envelope ``{"object": "error", "message", "type", "param", "code"}`` and
  its wordings: "This model's maximum context length is N tokens. However, your request has M
  input tokens." when the prompt alone overflows, "'max_tokens' or 'max_completion_tokens' is too
  large: K. This model's maximum context length is N tokens and your request has M input tokens
  (K > N - M)." when the prompt fits but not with the requested output, and -- when no
  ``max_tokens`` was sent, so vLLM derived it as ``N - M`` -- "max_tokens must be at least 1, got
  -D".
* **Ollama** (``{url}/ollama/v1``): ``GET /models`` states no window; the native ``POST
  /ollama/api/show`` does (``model_info["<family>.context_length"]``, the trained window, and
  ``num_ctx`` in ``parameters``, the window the server runs with). An over-long prompt is refused
  with "prompt too long; exceeded max context length by D tokens".
"""

from __future__ import annotations

from typing import Any

from ..spec import EmulatedModel, Fault
from .base import HttpError, Reply, Request
from .openai_compat import OpenAICompatDialect


def vllm_error(message: str, status: int, type_: str = "BadRequestError") -> dict[str, Any]:
    return {"object": "error", "message": message, "type": type_, "param": None, "code": status}


class VLLMDialect(OpenAICompatDialect):
    provider = "vllm"
    root = "/v1"
    owned_by = "vllm"

    def needs_credentials(self, req: Request) -> bool:
        return False  # a vLLM server started without --api-key takes any request

    def model_json(self, m: EmulatedModel) -> dict[str, Any]:
        data = {"id": m.id, "object": "model", "created": m.created, "owned_by": m.owned_by or self.owned_by,
                "root": m.id, "parent": None, "max_model_len": m.context_window}
        data.update(m.extra)
        return data

    def overflow_error(self, m: EmulatedModel, prompt: int, output: int, stated_output: bool) -> tuple[int, Any]:
        window = m.context_window
        if not stated_output:
            message = f"max_tokens must be at least 1, got {window - prompt}."
        elif prompt <= window:
            message = (f"'max_tokens' or 'max_completion_tokens' is too large: {output}. This model's maximum "
                       f"context length is {window} tokens and your request has {prompt} input tokens "
                       f"({output} > {window} - {prompt}). None")
        else:
            message = (f"This model's maximum context length is {window} tokens. However, your request has "
                       f"{prompt} input tokens. Please reduce the length of the input messages. None")
        return 400, vllm_error(message, 400)

    def unknown_model(self, model_id: str) -> Reply:
        return self.error_reply(404, vllm_error(f"The model `{model_id}` does not exist.", 404, "NotFoundError"))

    def error_for(self, kind: str, req: Request, fault: Fault) -> tuple[int, Any, dict[str, str]]:
        if kind == "server_error":
            return 500, vllm_error(fault.message or "Internal server error", 500, "InternalServerError"), {}
        return super().error_for(kind, req, fault)


class OllamaDialect(OpenAICompatDialect):
    provider = "ollama"
    root = "/v1"
    owned_by = "library"

    def needs_credentials(self, req: Request) -> bool:
        return False  # Ollama has no authentication

    def handle(self, req: Request, fault: Fault | None) -> Reply:
        if req.method == "POST" and req.path == "/api/show":
            return self.show(req)
        if req.method == "GET" and req.path == "/api/tags":
            return Reply(body={"models": [{"name": m.id, "model": m.id} for m in self.catalogue()]})
        return super().handle(req, fault)

    def show(self, req: Request) -> Reply:
        name = req.json.get("model") or req.json.get("name")
        m = self.find_model(name if isinstance(name, str) else None)
        if m is None:
            raise HttpError(Reply(status=404, body={"error": f"model '{name}' not found"}))
        info = m.extra.get("ollama") or {}
        family = info.get("family", "llama")
        return Reply(body={
            "modelfile": f"FROM {m.id}\nPARAMETER num_ctx {m.context_window}\n",
            "parameters": f"num_ctx                        {m.context_window}",
            "details": {"format": "gguf", "family": family, "parameter_size": "8B", "quantization_level": "Q4_K_M"},
            "model_info": {"general.architecture": family, f"{family}.context_length": info.get("trained",
                                                                                               m.context_window)},
            "capabilities": ["completion", "tools"],
        })

    def model_json(self, m: EmulatedModel) -> dict[str, Any]:
        return {"id": m.id, "object": "model", "created": m.created, "owned_by": m.owned_by or self.owned_by}

    def overflow_error(self, m: EmulatedModel, prompt: int, output: int, stated_output: bool) -> tuple[int, Any]:
        over = prompt + (output if stated_output else 0) - m.context_window
        return 400, {"error": {"message": f"prompt too long; exceeded max context length by {max(over, 1)} tokens",
                               "type": "invalid_request_error", "param": None, "code": None}}
