"""Personal data out of free text before it leaves us (the guide's question, on its way to a model).

Masked: ID document numbers (resident ID cards with or without the X check character, passports,
Hong Kong/Macau/Taiwan permits), phone numbers (mobiles with or without +86, landlines with an area
code), e-mail addresses, any other run of seven or more digits (bank cards, membership numbers), and
names where the text says they are names ("我叫张三", "姓名：李四", "my name is Ann Lee", "I'm Ann").
A name said without such a cue can't be told from a place by a pattern; the guide sends the model no
account data at all, so such a name is the only personal thing that can pass, and only if the
visitor wrote it unannounced.
"""

from __future__ import annotations

import re

ID_MASK, PHONE_MASK, EMAIL_MASK, NUMBER_MASK, NAME_MASK = "[证件号]", "[电话]", "[邮箱]", "[号码]", "[姓名]"

_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
# resident ID (18 with check char, old 15 digits), passport (letter + 8 digits), HK/Macau permits
_ID = re.compile(r"(?<![0-9A-Za-z])(?:\d{17}[\dXx]|\d{15}|[EeGgDdSsPp]\d{8}|[HhMmCc]\d{8,10})(?![0-9A-Za-z])")
_PHONE = re.compile(
    r"(?<!\d)(?:(?:\+|00)?86[-\s]?)?1[3-9]\d(?:[-\s]?\d{4}){2}(?!\d)"  # mobile
    r"|(?<!\d)0\d{2,3}[-\s]?\d{7,8}(?!\d)"  # landline with its area code
)
_LONG_NUMBER = re.compile(r"(?<!\d)\d(?:[-\s]?\d){6,}(?!\d)")
_ZH_NAME = re.compile(
    r"(我叫|我是|我的名字是|我的名字叫|名字是|名字叫|姓名[:：是为]?|本人|联系人[:：是为]?|游客|乘客)\s*"
    r"([\u4e00-\u9fff·]{2,4})"
)
_EN_NAME = re.compile(
    r"\b((?:[Mm]y name is|[Nn]ame:|I am|I'm|[Tt]his is|[Cc]all me)\s+)((?:[A-Z][a-z'’-]+)(?:\s+[A-Z][a-z'’-]+){0,2})"
)
# words after "我是" that are not names (我是游客, 我是外地人 …): left alone
_NOT_NAMES = ("游客", "外地", "本地", "学生", "老人", "残疾", "第一次", "来自", "从", "一个", "一名", "带着")
_EN_NOT_NAMES = frozenset(
    "A An The Here In At From Visiting Looking Going Travelling Traveling With Staying Not New Trying".split()
)


def _zh_name(match: re.Match[str]) -> str:
    cue, name = match.group(1), match.group(2)
    if cue in ("我是", "本人") and name.startswith(_NOT_NAMES):
        return match.group(0)
    return cue + NAME_MASK


def _en_name(match: re.Match[str]) -> str:
    cue, name = match.group(1), match.group(2)
    if name.split()[0] in _EN_NOT_NAMES:
        return match.group(0)
    return cue + NAME_MASK


def mask_personal(text: str) -> str:
    """`text` with the personal data above replaced by placeholders ([证件号], [电话], [姓名] …)."""
    out = _EMAIL.sub(EMAIL_MASK, text)
    out = _ID.sub(ID_MASK, out)
    out = _PHONE.sub(PHONE_MASK, out)
    out = _LONG_NUMBER.sub(NUMBER_MASK, out)
    out = _ZH_NAME.sub(_zh_name, out)
    out = _EN_NAME.sub(_en_name, out)
    return out
