"""Chat models behind one small Protocol: an OpenAI-compatible chat completions adapter (the API that
DeepSeek, Qwen/DashScope, Moonshot and most self-hosted servers speak) and a local stand-in for tests."""
