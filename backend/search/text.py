"""How the search index reads text: Chinese segmented by jieba, pinyin (full and initials) by pypinyin,
English words lower-cased and lightly stemmed, and the cheap typo machinery (delete neighbourhoods and
an optimal-string-alignment distance). Pure functions over strings: no room, no database, no I/O.

jieba keeps a process-wide dictionary (about 70 MB, 1–2 s to load): `warm()` loads it, and the index
calls it from a worker thread (backend/lib/offload.py) before any request segments a query.
"""

from __future__ import annotations

import logging
import re
import threading
import unicodedata
from collections.abc import Iterable, Iterator

import jieba  # type: ignore[import-untyped]  # jieba ships neither types nor stubs
from pypinyin import Style, lazy_pinyin

jieba.setLogLevel(logging.WARNING)

_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
_LATIN = re.compile(r"[a-z0-9]+")
_WORDS = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+|[a-z0-9]+")

# Words that say nothing about what is searched for: dropped from a query when something else is left.
STOP_EN = frozenset(
    "a an the of in on at to and or is are was be for with by from what where when which who how "
    "do does did can could i me my we our you your it its this that there here any some please tell "
    "about near nearby nearest closest around much many".split()
)
STOP_ZH = frozenset(
    "的 了 吗 呢 吧 啊 呀 是 在 有 和 与 及 我 我们 你 你们 请问 请 想 想要 要 可以 能 能否 哪里 哪儿 "
    "哪 什么 怎么 怎么样 如何 多少 几点 几 一下 一个 这 那 这里 那里 附近 最近 离 距离 还 都 也 吗？".split()
)


def normalise(text: str) -> str:
    """NFKC (full-width letters and digits become ASCII), lower case."""
    return unicodedata.normalize("NFKC", text).lower()


def stem(word: str) -> str:
    """A light English stemmer: plural endings only (museums → museum, libraries → library); enough
    for names and short descriptions, and the same on both sides of a match."""
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("es") and word[-3] in "sxz":
        return word[:-2]
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


def is_cjk(token: str) -> bool:
    return bool(_CJK.fullmatch(token))


_ready = threading.Lock()
_warm = False


def warm() -> None:
    """Load jieba's dictionary (CPU work: call it off the event loop)."""
    global _warm
    with _ready:
        if not _warm:
            jieba.initialize()
            _warm = True


def is_warm() -> bool:
    return _warm


def cjk_words(run: str, search_mode: bool = True) -> list[str]:
    """jieba's words of a run of Chinese characters; search mode adds the shorter words inside long
    ones (青果巷 → 青果, 青果巷), as a search engine wants."""
    words = jieba.lcut_for_search(run) if search_mode else jieba.lcut(run)
    return [w for w in words if w.strip()]


def ngrams(run: str) -> Iterator[str]:
    """The single characters and character pairs of a Chinese run (a fallback for words jieba splits
    differently on the two sides)."""
    yield from run
    for i in range(len(run) - 1):
        yield run[i : i + 2]


def latin_words(text: str) -> list[str]:
    return [stem(w) for w in _LATIN.findall(text)]


class Analysed:
    """One field's terms: `words` (jieba words and stemmed English words, with counts) and `grams`
    (Chinese characters and pairs)."""

    __slots__ = ("grams", "length", "words")

    def __init__(self) -> None:
        self.words: dict[str, int] = {}
        self.grams: set[str] = set()
        self.length = 0


def analyse(text: str) -> Analysed:
    out = Analysed()
    for piece in _WORDS.findall(normalise(text)):
        if is_cjk(piece):
            for w in cjk_words(piece):
                out.words[w] = out.words.get(w, 0) + 1
                out.length += 1
            out.grams.update(ngrams(piece))
        else:
            w = stem(piece)
            out.words[w] = out.words.get(w, 0) + 1
            out.length += 1
    return out


def title_pinyin(title: str) -> tuple[str, str]:
    """The whole title's full pinyin (hongmeigongyuan) and its initials (hmgy), Chinese parts only."""
    runs = _CJK.findall(unicodedata.normalize("NFKC", title))
    full = "".join(to_pinyin(run) for run in runs)
    initials = "".join("".join(lazy_pinyin(run, style=Style.FIRST_LETTER, errors="ignore")) for run in runs)
    return full, initials


def pinyin_terms(title: str) -> set[str]:
    """Pinyin a title is found by: each jieba word's full pinyin (红梅 → hongmei), the whole title's
    full pinyin (hongmeigongyuan) and its initials (hmgy); the Chinese parts only."""
    terms: set[str] = set()
    runs = _CJK.findall(unicodedata.normalize("NFKC", title))
    if not runs:
        return terms
    full, initials = [], []
    for run in runs:
        syllables = lazy_pinyin(run, errors="ignore")
        full.append("".join(syllables))
        initials.append("".join(lazy_pinyin(run, style=Style.FIRST_LETTER, errors="ignore")))
        for w in cjk_words(run):
            terms.add("".join(lazy_pinyin(w, errors="ignore")))
    terms.add("".join(full))
    terms.add("".join(initials))
    return {t for t in terms if t}


def to_pinyin(run: str) -> str:
    return "".join(lazy_pinyin(run, errors="ignore"))


def query_tokens(text: str) -> list[str]:
    """A query's terms, in order: jieba's words (precise mode) and stemmed English words; stop words go
    when something else is left."""
    tokens: list[str] = []
    kept: list[str] = []
    for piece in _WORDS.findall(normalise(text)):
        words = cjk_words(piece, search_mode=False) if is_cjk(piece) else [piece]
        for w in words:
            token = w if is_cjk(w) else stem(w)
            tokens.append(token)
            if w not in STOP_EN and token not in STOP_EN and w not in STOP_ZH:
                kept.append(token)
    return kept or tokens


def compact(text: str) -> str:
    """Letters, digits and Chinese characters only, lower case: what "the same title" compares."""
    return "".join(_WORDS.findall(normalise(text)))


# ---------------------------------------------------------------- typo tolerance


def deletes(word: str, depth: int) -> set[str]:
    """Every string made by deleting up to `depth` characters of `word` (SymSpell's neighbourhood)."""
    found = {word}
    frontier = {word}
    for _ in range(depth):
        nxt = set()
        for w in frontier:
            for i in range(len(w)):
                nxt.add(w[:i] + w[i + 1 :])
        found |= nxt
        frontier = nxt
    return found


def osa_distance(a: str, b: str, limit: int) -> int:
    """Optimal string alignment distance (Levenshtein plus adjacent transpositions), or limit + 1 as
    soon as it must exceed `limit`."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        cur = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                cur[j] = min(cur[j], prev2[j - 2] + 1)
        if min(cur) > limit:
            return limit + 1
        prev2, prev = prev, cur
    return prev[-1]


def typo_budget(word: str) -> int:
    """Edits forgiven in a Latin query word: none under 4 letters, one up to 7, two from 8."""
    n = len(word)
    return 0 if n < 4 else 1 if n < 8 else 2


def unique(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(items))
