"""An OpenAI-compatible chat completions client (`POST {base}/chat/completions`), as Chinese
deployments offer it (DeepSeek, Qwen through DashScope's compatible mode, self-hosted vLLM).

Configured by GUIDE_LLM_URL (the API base, e.g. `https://api.deepseek.com/v1`; a URL already ending in
`/chat/completions` is used as it is), GUIDE_LLM_KEY (sent as a bearer token) and GUIDE_LLM_MODEL.
Whatever goes wrong (no answer in time, a refusal, a reply of the wrong shape) is one
`ChatUnavailable`: the caller answers without the model.
"""

from __future__ import annotations

from typing import Any, Protocol

import httpx
import msgspec


class ChatUnavailable(Exception):
    """The model gave no usable answer."""


class ChatModel(Protocol):
    async def complete(self, messages: list[dict[str, str]]) -> str: ...


class _Message(msgspec.Struct):
    content: str | None = None


class _Choice(msgspec.Struct):
    message: _Message


class _Completion(msgspec.Struct):
    choices: list[_Choice]


class OpenAICompatibleChat:
    def __init__(
        self,
        base_url: str,
        model: str,
        api_key: str | None = None,
        timeout_s: float = 20.0,
        max_tokens: int = 700,
        temperature: float = 0.2,
    ) -> None:
        base = base_url.rstrip("/")
        self.url = base if base.endswith("/chat/completions") else base + "/chat/completions"
        self.model = model
        self.api_key = api_key
        self.timeout_s = timeout_s
        self.max_tokens = max_tokens
        self.temperature = temperature

    def body(self, messages: list[dict[str, str]]) -> dict[str, Any]:
        return {
            "model": self.model,
            "messages": messages,
            "temperature": self.temperature,
            "max_tokens": self.max_tokens,
            "stream": False,
        }

    async def complete(self, messages: list[dict[str, str]]) -> str:
        headers = {"Content-Type": "application/json"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        try:
            async with httpx.AsyncClient(timeout=self.timeout_s) as client:
                body = msgspec.json.encode(self.body(messages))
                response = await client.post(self.url, content=body, headers=headers)
        except httpx.HTTPError as exc:
            raise ChatUnavailable(f"model unreachable: {type(exc).__name__}") from None
        if response.status_code != 200:
            raise ChatUnavailable(f"model answered {response.status_code}")
        try:
            completion = msgspec.json.decode(response.content, type=_Completion)
        except msgspec.DecodeError as exc:
            raise ChatUnavailable(f"model reply of the wrong shape: {exc}") from None
        if not completion.choices or not (completion.choices[0].message.content or "").strip():
            raise ChatUnavailable("model reply without content")
        return completion.choices[0].message.content or ""
