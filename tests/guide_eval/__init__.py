"""The guide's question set (questions.toml) and its scoring, shared by tests/api/test_guide_eval.py and
`make bench` (bench/guide_eval.py).

- recall@5: for each question, the share of its must-cite items among the first five items the guide
  retrieves for it; averaged over the questions;
- citations that exist: the share of answers (from `guide.ask`, with whatever model is configured) whose
  every citation is an item of the city's data (a document of the search index).
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path

QUESTIONS = Path(__file__).with_name("questions.toml")


@dataclass(frozen=True)
class Question:
    text: str
    cite: tuple[str, ...]
    near: tuple[float, float] | None = None

    @property
    def lang(self) -> str:
        return "zh" if any("\u4e00" <= ch <= "\u9fff" for ch in self.text) else "en"


@dataclass
class Score:
    questions: int = 0
    recall_at_5: float = 0.0
    citations_exist: float = 0.0
    by_model: int = 0  # answers the model wrote (the rest: composed from retrieval)
    misses: list[str] = field(default_factory=list)  # questions with a must-cite item not in the top five


def questions() -> list[Question]:
    raw = tomllib.loads(QUESTIONS.read_text(encoding="utf-8"))["q"]
    return [Question(q["text"], tuple(q["cite"]), tuple(q["near"]) if "near" in q else None) for q in raw]


async def evaluate(items: list[Question] | None = None) -> Score:
    """Score the guide of this process (its index, its model if one is set) on the question set."""
    from backend.lib.clock import clock
    from backend.lib.geo import Point
    from backend.search.guide import guide
    from backend.search.privacy import mask_personal
    from backend.search.services import search

    items = items if items is not None else questions()
    known = {f"{d.kind}:{d.slug}" for d in (await search.index()).docs}
    recall = exist = 0.0
    score = Score(questions=len(items))
    for q in items:
        near = Point(*q.near) if q.near else None
        hits, _ = await guide.retrieve(mask_personal(q.text), near, clock.now())
        top = {f"{h.doc.kind}:{h.doc.slug}" for h in hits[:5]}
        found = sum(1 for c in q.cite if c in top)
        recall += found / len(q.cite)
        if found < len(q.cite):
            score.misses.append(q.text)
        answer = await guide.ask(q.text, q.lang, near)  # type: ignore[arg-type]
        exist += all(f"{c.kind}:{c.slug}" in known for c in answer.citations)
        score.by_model += answer.source == "model"
    score.recall_at_5 = recall / len(items)
    score.citations_exist = exist / len(items)
    return score
