"""The search index's text machinery and the guide's masking of personal data (no database)."""

from __future__ import annotations

import pytest

from backend.search import text
from backend.search.privacy import mask_personal


def test_pinyin_terms_of_a_title():
    terms = text.pinyin_terms("红梅公园")
    assert {"hongmei", "gongyuan", "hongmeigongyuan", "hmgy"} <= terms
    assert text.title_pinyin("青果巷历史文化街区") == ("qingguoxianglishiwenhuajiequ", "qgxlswhjq")
    assert text.title_pinyin("Canal No. 5") == ("", "")
    assert "chongqing" in text.pinyin_terms("重庆")  # phrase-aware: 重 read chong here


def test_query_tokens_segment_stem_and_drop_stop_words():
    assert text.query_tokens("附近哪里有无障碍厕所") == ["无障碍", "厕所"]
    assert text.query_tokens("When does the Museums open?") == ["museum", "open"]
    assert text.query_tokens("ＨＯＮＧＭＥＩ") == ["hongmei"]
    assert text.query_tokens("的") == ["的"]  # nothing else left: the stop word stays
    assert text.compact("青果巷：半部常州史!") == "青果巷半部常州史"


@pytest.mark.parametrize(
    ("a", "b", "limit", "expected"),
    [
        ("museum", "musuem", 1, 1),  # a transposition is one edit
        ("hongmei", "hongmie", 1, 1),
        ("park", "bark", 1, 1),
        ("park", "parks", 1, 1),
        ("dinosaur", "dinosuar", 2, 1),
        ("museum", "mausoleum", 2, 3),  # beyond the limit: limit + 1
        ("", "abc", 1, 2),
    ],
)
def test_osa_distance(a, b, limit, expected):
    assert text.osa_distance(a, b, limit) == expected


def test_delete_neighbourhoods_and_typo_budget():
    assert text.deletes("abc", 1) == {"abc", "ab", "ac", "bc"}
    assert "a" in text.deletes("abc", 2)
    assert [text.typo_budget(w) for w in ("abc", "park", "dinosaur")] == [0, 1, 2]


@pytest.mark.parametrize(
    ("question", "gone", "placeholder"),
    [
        ("我叫王小明，常州博物馆几点开门", "王小明", "[姓名]"),
        ("姓名：李四，想订票", "李四", "[姓名]"),
        ("身份证32040219900307123X", "32040219900307123X", "[证件号]"),
        ("身份证 320402199003071234", "320402199003071234", "[证件号]"),
        ("手机13812345678", "13812345678", "[电话]"),
        ("call +86 138-1234-5678", "1234-5678", "[电话]"),
        ("座机 0519-86123456", "86123456", "[电话]"),
        ("passport E12345678 please", "E12345678", "[证件号]"),
        ("mail me at ann.lee@example.com", "ann.lee@example.com", "[邮箱]"),
        ("card 6222 0212 3456 7890", "6222", "[号码]"),
        ("My name is Ann Lee and I need help", "Ann Lee", "[姓名]"),
        ("I'm Zhao Wei, where is the museum?", "Zhao Wei", "[姓名]"),
    ],
)
def test_personal_data_is_masked(question, gone, placeholder):
    masked = mask_personal(question)
    assert gone not in masked and placeholder in masked


@pytest.mark.parametrize(
    "question",
    [
        "我是游客，附近哪里有厕所",
        "I am visiting Changzhou",
        "门票 2025年 30元",
        "常州博物馆几点开门",
        "I'm looking for toilets",
    ],
)
def test_ordinary_questions_are_left_alone(question):
    assert mask_personal(question) == question
