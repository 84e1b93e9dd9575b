"""The guide on its question set (issue 20; tests/guide_eval/questions.toml, 60+ visitor questions in zh and
en, each with the items an answer must cite): retrieval recall@5 and the share of answers whose citations
all exist, without a model, with the stand-in model citing what it was given, and with the stand-in
fabricating a citation (every answer must fall back to retrieval). `req/s` is questions answered per
second; `ratio` is recall@5 (target ≥ 0.8) or the share of answers with real citations.

Runs in-process on a fresh database loaded with the city's content (no server): it measures the guide.
"""

from __future__ import annotations

import asyncio
import os
import time

from bench.harness import bench_env, cli


async def _measure() -> list[tuple]:
    import logging

    logging.getLogger("changxiang.guide").setLevel(logging.ERROR)  # the rejected fabrications, 64 times
    from backend.lib.db import start_database, stop_database
    from backend.search.guide import guide
    from integrations.llm.chat import OpenAICompatibleChat
    from integrations.llm.standin import ChatStandIn
    from tests.guide_eval import evaluate, questions

    rows: list[tuple] = []
    n = len(questions())
    await start_database()
    try:
        await evaluate(questions()[:1])  # the index and jieba's dictionary, built once
        for mode in (None, "cite", "fabricate"):
            standin = None
            if mode is not None:
                standin = ChatStandIn(mode=mode)
                guide.use_model(OpenAICompatibleChat(standin.start(), "standin", api_key="sk-bench"))
            began = time.perf_counter()
            try:
                score = await evaluate()
            finally:
                guide.use_model(None)
                if standin is not None:
                    standin.stop()
            rate = n / (time.perf_counter() - began)
            who = "no model" if mode is None else f"stand-in {mode}s"
            if mode is None:
                misses = "; ".join(score.misses[:3]) or "none"
                label = f"guide recall@5 ({n} questions), {who}"
                rows.append((label, rate, score.recall_at_5, f"misses: {misses}", 0.8))
            rows.append(
                (
                    f"guide answers citing only real items, {who}",
                    rate,
                    score.citations_exist,
                    f"{score.by_model}/{n} written by the model",
                )
            )
    finally:
        await stop_database()
    return rows


def run() -> list[tuple]:
    env = bench_env()
    cli(env, "migrate")
    cli(env, "load-content")
    os.environ.update(env)
    return asyncio.run(_measure())
