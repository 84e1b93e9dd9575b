"""The guide on its question set (issue 20, 4): retrieval recall@5 ≥ 0.8 without a model, every answer's
citations real; with the stand-in model citing what it was given the answers are the model's, and with
one that fabricates a citation every answer falls back to retrieval, its citations still real."""

from __future__ import annotations

import pytest

from backend.search.guide import guide
from integrations.llm.chat import OpenAICompatibleChat
from integrations.llm.standin import ChatStandIn
from tests.guide_eval import evaluate, questions

pytestmark = pytest.mark.anyio


def test_the_set_is_big_enough_and_bilingual():
    qs = questions()
    assert len(qs) >= 60
    assert sum(q.lang == "zh" for q in qs) >= 25 and sum(q.lang == "en" for q in qs) >= 25
    kinds = {c.split(":")[0] for q in qs for c in q.cite}
    assert {"venue", "event", "poi", "amenity", "tour", "exhibition", "article"} <= kinds


async def test_recall_at_5_without_a_model(client):
    guide.use_model(None)
    score = await evaluate()
    print(f"guide question set: {score.questions} questions, recall@5 {score.recall_at_5:.3f}, misses {score.misses}")
    assert score.recall_at_5 >= 0.8, score.misses
    assert score.citations_exist == 1.0 and score.by_model == 0


@pytest.mark.parametrize(("mode", "model_answers"), [("cite", True), ("fabricate", False)])
async def test_with_the_stand_in_model(client, mode, model_answers):
    standin = ChatStandIn(mode=mode)
    standin.start()
    guide.use_model(OpenAICompatibleChat(standin.base_url, "standin", api_key="sk-eval"))
    try:
        score = await evaluate(questions()[:20])
    finally:
        guide.use_model(None)
        standin.stop()
    assert score.citations_exist == 1.0
    assert (score.by_model == score.questions) if model_answers else (score.by_model == 0)
