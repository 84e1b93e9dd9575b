"""The search index: an inverted index over `Document`s, built in one pass (CPU work, run in a worker
thread) and queried in memory. docs/search.md explains the design; in short:

- terms: jieba's words of the Chinese text (search mode), stemmed English words, and the pinyin of each
  title (every word's full pinyin, the whole title's full pinyin and its initials); Chinese characters
  and character pairs are kept apart as a weak fallback;
- a query word matches a term exactly, as a prefix (Latin words of two letters or more: `hongmei`
  starts `hongmeigongyuan`), with a typo (Latin words of four letters or more, one edit; eight or more,
  two; found through delete neighbourhoods), or, for Chinese words the index has never seen, by their
  pinyin (a homophone typed by mistake);
- scores are BM25 per field (title, pinyin, tags, body, with weights), the best match of each query word
  summed; a document must match every word of a one- or two-word query and two thirds of a longer one;
  a title equal to the query (or to its pinyin or initials) ranks above everything else; with `near`,
  closer places get up to three times the score (the extra halving about every 1.4 km).
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from backend.lib.geo import Point, haversine_m
from backend.search import text
from backend.search.documents import Document

FIELD_WEIGHTS: dict[str, float] = {"title": 3.0, "pinyin": 2.2, "tags": 1.6, "body": 1.0}
GRAM_FIELDS = ("title", "tags", "body")
KIND_WEIGHTS: dict[str, float] = {
    "venue": 1.15,
    "event": 1.1,
    "tour": 1.1,
    "exhibition": 1.1,
    "article": 1.0,
    "poi": 1.0,
    "amenity": 0.85,
}
PREFIX_FACTOR, TYPO_FACTOR, GRAM_FACTOR, HOMOPHONE_FACTOR = 0.7, 0.55, 0.45, 0.4
MAX_EXPANSIONS = 64  # vocabulary terms one query word may expand to (prefixes, typos)
EXACT_TITLE_BONUS = 1000.0  # added: a title equal to the query comes first
TITLE_START_FACTOR, TITLE_PART_FACTOR = 1.6, 1.25  # times the score: a title starting with or holding it
NEAR_BOOST, NEAR_SCALE_M = 2.0, 2000.0
K1, B = 1.2, 0.75


@dataclass(slots=True)
class Hit:
    doc: Document
    score: float
    distance_m: float | None
    matched: list[str]  # the index terms that matched (for the snippet)


@dataclass
class SearchIndex:
    docs: list[Document] = field(default_factory=list)
    # term -> [(doc, field, tf)]
    postings: dict[str, list[tuple[int, str, int]]] = field(default_factory=dict)
    # Chinese character or pair -> {doc: best field weight}
    grams: dict[str, dict[int, float]] = field(default_factory=dict)
    lengths: dict[str, list[int]] = field(default_factory=dict)  # field -> length per doc
    average: dict[str, float] = field(default_factory=dict)
    latin: list[str] = field(default_factory=list)  # sorted Latin vocabulary (prefix search)
    near_miss: dict[str, list[str]] = field(default_factory=dict)  # a one-deletion variant -> terms
    titles: list[tuple[str, str, str, str]] = field(default_factory=list)  # compact zh, en; pinyin, initials

    # ---------------------------------------------------------------- build

    @classmethod
    def build(cls, docs: list[Document]) -> SearchIndex:
        text.warm()
        index = cls(docs=docs)
        index.lengths = {f: [0] * len(docs) for f in FIELD_WEIGHTS}
        postings: dict[str, list[tuple[int, str, int]]] = {}
        grams: dict[str, dict[int, float]] = {}
        for i, doc in enumerate(docs):
            for name, value in doc.fields.items():
                analysed = text.analyse(value)
                index.lengths[name][i] = analysed.length
                for term, tf in analysed.words.items():
                    postings.setdefault(term, []).append((i, name, tf))
                weight = FIELD_WEIGHTS[name]
                for g in analysed.grams:
                    slot = grams.setdefault(g, {})
                    slot[i] = max(slot.get(i, 0.0), weight)
            pinyin = text.pinyin_terms(doc.title_zh)
            index.lengths["pinyin"][i] = len(pinyin)
            for term in pinyin:
                postings.setdefault(term, []).append((i, "pinyin", 1))
            index.titles.append(
                (text.compact(doc.title_zh), text.compact(doc.title_en), *text.title_pinyin(doc.title_zh))
            )
        index.postings, index.grams = postings, grams
        n = max(1, len(docs))
        index.average = {f: max(1.0, sum(lengths) / n) for f, lengths in index.lengths.items()}
        index.latin = sorted(t for t in postings if not text.is_cjk(t))
        near_miss: dict[str, list[str]] = {}
        for term in index.latin:
            if len(term) >= 3 and not term.isdigit():
                for variant in text.deletes(term, 1):
                    near_miss.setdefault(variant, []).append(term)
        index.near_miss = near_miss
        return index

    # ---------------------------------------------------------------- matching

    def _idf(self, df: int) -> float:
        n = len(self.docs)
        return math.log(1.0 + (n - df + 0.5) / (df + 0.5))

    def _term_scores(self, term: str, factor: float, out: dict[int, tuple[float, str]]) -> None:
        """Add the BM25 score of `term` (times `factor`) to `out`, keeping each document's best."""
        plist = self.postings.get(term)
        if not plist:
            return
        idf = self._idf(len({d for d, _, _ in plist}))
        for d, name, tf in plist:
            norm = 1 - B + B * self.lengths[name][d] / self.average[name]
            s = factor * FIELD_WEIGHTS[name] * idf * tf * (K1 + 1) / (tf + K1 * norm)
            best = out.get(d)
            if best is None or s > best[0]:
                out[d] = (s, term)

    def _prefixed(self, word: str) -> list[str]:
        lo = bisect.bisect_left(self.latin, word)
        found = []
        for term in self.latin[lo : lo + MAX_EXPANSIONS + 1]:
            if not term.startswith(word):
                break
            if term != word:
                found.append(term)
        return found

    def _typos(self, word: str) -> list[tuple[str, int]]:
        budget = text.typo_budget(word)
        if budget == 0 or word.isdigit():
            return []
        candidates: set[str] = set()
        for variant in text.deletes(word, budget):
            candidates.update(self.near_miss.get(variant, ()))
            if len(candidates) > 4 * MAX_EXPANSIONS:
                break
        out = []
        for term in candidates:
            if term == word:
                continue
            d = text.osa_distance(word, term, budget)
            if d <= budget:
                out.append((term, d))
        out.sort(key=lambda x: (x[1], x[0]))
        return out[:MAX_EXPANSIONS]

    def _gram_scores(self, word: str, factor: float, out: dict[int, tuple[float, str]]) -> None:
        if len(word) <= 2:
            pieces = [word]
        else:
            pieces = [word[i : i + 2] for i in range(len(word) - 1)]
        sets = [self.grams.get(p) for p in pieces]
        if not sets or any(not s for s in sets):
            return
        docs: set[int] = set(sets[0] or {})
        for s in sets[1:]:
            docs &= set(s or {})
        if not docs:
            return
        idf = self._idf(len(docs))
        for d in docs:
            weight = min((s or {}).get(d, 0.0) for s in sets)
            score = factor * weight * idf
            best = out.get(d)
            if best is None or score > best[0]:
                out[d] = (score, word)

    def word_matches(self, word: str) -> dict[int, tuple[float, str]]:
        """doc -> (best score, matched term) for one query word."""
        out: dict[int, tuple[float, str]] = {}
        if text.is_cjk(word):
            self._term_scores(word, 1.0, out)
            self._gram_scores(word, GRAM_FACTOR, out)
            if not out:  # a word the city's text never uses: perhaps a homophone typed by mistake
                sound = text.to_pinyin(word)
                self._term_scores(sound, HOMOPHONE_FACTOR, out)
                for term in self._prefixed(sound)[:8]:
                    self._term_scores(term, HOMOPHONE_FACTOR * PREFIX_FACTOR, out)
            return out
        self._term_scores(word, 1.0, out)
        if len(word) >= 2 and not word.isdigit():
            for term in self._prefixed(word):
                self._term_scores(term, PREFIX_FACTOR * math.sqrt(len(word) / len(term)), out)
        for term, distance in self._typos(word):
            self._term_scores(term, TYPO_FACTOR / distance, out)
        return out

    # ---------------------------------------------------------------- ranking

    def _title_match(self, i: int, whole: str) -> tuple[float, float]:
        """(factor, bonus) for how the whole query meets document i's title: equal to it (or to its
        pinyin or initials), at its start, or inside it."""
        if len(whole) < 2:
            return 1.0, 0.0
        zh, en, pinyin, initials = self.titles[i]
        if whole in (zh, en, pinyin, initials):
            return 1.0, EXACT_TITLE_BONUS
        titles = [t for t in (zh, en, pinyin, initials) if t]
        if any(t.startswith(whole) for t in titles):
            return TITLE_START_FACTOR, 0.0
        if any(whole in t for t in titles):
            return TITLE_PART_FACTOR, 0.0
        return 1.0, 0.0

    def _evaluate(self, words: list[str], min_coverage: float | None) -> dict[int, tuple[float, int, list[str]]]:
        """doc -> (summed score, words matched, matched terms)."""
        totals: dict[int, tuple[float, int, list[str]]] = {}
        for word in words:
            for d, (score, term) in self.word_matches(word).items():
                s, n, terms = totals.get(d, (0.0, 0, []))
                totals[d] = (s + score, n + 1, [*terms, term])
        need = len(words) if min_coverage is None else max(1, math.ceil(min_coverage * len(words)))
        return {d: v for d, v in totals.items() if v[1] >= need}

    def search(
        self,
        query: str,
        now: datetime,
        near: Point | None = None,
        kinds: Iterable[str] | None = None,
        min_coverage: float | None = None,
    ) -> list[Hit]:
        """Every visible document the query finds, best first. `min_coverage` None: every word of a
        one- or two-word query and two thirds of a longer one; else that share of the words."""
        words = text.query_tokens(query)[:32]
        if not words:
            return []
        coverage = min_coverage if min_coverage is not None else (None if len(words) <= 2 else 2 / 3)
        found = self._evaluate(words, coverage)
        if len(words) > 1 and all(not text.is_cjk(w) for w in words):
            # pinyin typed with spaces (hong mei gong yuan), or a name split in two: also as one word
            for d, v in self._evaluate(["".join(words)], None).items():
                joined = (v[0], len(words), v[2])
                if d not in found or found[d][0] < joined[0]:
                    found[d] = joined
        wanted = set(kinds) if kinds is not None else None
        whole = text.compact(query)
        hits = []
        for d, (score, matched_words, terms) in found.items():
            doc = self.docs[d]
            if (wanted is not None and doc.kind not in wanted) or not doc.visible(now):
                continue
            share = matched_words / len(words)
            score = score * share * KIND_WEIGHTS.get(doc.kind, 1.0)
            distance = haversine_m(near, doc.location) if near is not None and doc.location is not None else None
            if distance is not None:
                score *= 1 + NEAR_BOOST * math.exp(-distance / NEAR_SCALE_M)
            factor, bonus = self._title_match(d, whole)
            score = score * factor + bonus
            hits.append(Hit(doc, score, distance, text.unique(terms)))
        hits.sort(key=lambda h: (-h.score, h.distance_m if h.distance_m is not None else math.inf, h.doc.slug))
        return hits
