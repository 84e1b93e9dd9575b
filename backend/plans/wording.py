"""The plan's words: one `why` line per item and the warnings, in Chinese or English.

Every line is built from facts the planner used (an interest matched, a real event time, a free slot, the
comfort level, the walk), never from free text, so it can't claim what the plan did not check.
"""

from __future__ import annotations

from backend.lib.i18n import Lang
from backend.plans.candidates import Info
from backend.plans.search import Candidate, Placed

CATEGORY_NAMES: dict[str, tuple[str, str]] = {
    "museum": ("博物馆", "museums"),
    "library": ("图书馆", "libraries"),
    "art_gallery": ("美术馆", "art galleries"),
    "cultural_center": ("文化馆", "cultural centres"),
    "theatre": ("剧院", "theatre"),
    "scenic_area": ("景区", "scenic areas"),
    "heritage_site": ("历史古迹", "heritage sites"),
    "park": ("公园", "parks"),
    "resort": ("度假区", "resorts"),
    "memorial_hall": ("纪念馆", "memorial halls"),
    "intangible_heritage": ("非遗", "intangible heritage"),
    "performance": ("演出", "performances"),
    "exhibition": ("展览", "exhibitions"),
    "festival": ("节庆", "festivals"),
    "lecture": ("讲座", "talks"),
    "workshop": ("手作体验", "workshops"),
    "family": ("亲子活动", "family activities"),
    "night_tour": ("夜游", "night tours"),
    "rural_tourism": ("乡村游", "rural trips"),
    "sports": ("运动", "sports"),
}
COMFORT_WORDS: dict[str, tuple[str, str]] = {
    "comfortable": ("此时人少舒适", "calm at this time"),
    "fairly_comfortable": ("此时较舒适", "fairly calm at this time"),
    "normal": ("人流一般", "moderately busy"),
    "fairly_crowded": ("可能较拥挤，已尽量避开高峰", "may be busy; the calmest time that fits"),
    "crowded": ("可能拥挤", "may be crowded"),
}
BREAK_TITLES = {"lunch": ("午餐", "Lunch"), "rest": ("休息", "Rest")}


def _hm(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


def _say(lang: Lang, zh: str, en: str) -> str:
    return zh if lang == "zh" else en


def break_title(kind: str, lang: Lang) -> str:
    zh, en = BREAK_TITLES[kind]
    return _say(lang, zh, en)


def why_break(step: Placed, after: str | None, party_needs_rest: bool, lang: Lang) -> str:
    if step.break_kind == "lunch":
        if after:
            return _say(lang, f"午餐时间：在{after}附近用餐歇脚", f"Lunchtime: eat and rest near {after}")
        return _say(lang, "午餐时间：用餐歇脚", "Lunchtime: eat and rest")
    if party_needs_rest:
        return _say(lang, "带着孩子或老人，歇一歇再出发", "A rest before going on: easier with children or seniors")
    return _say(lang, "走了一段，歇一歇再出发", "A short rest before going on")


def why_item(c: Candidate, info: Info, step: Placed, lang: Lang) -> str:
    parts: list[str] = []
    if c.kind == "event":
        if c.fixed_starts:
            at = _hm(step.start)
            parts.append(_say(lang, f"{at} 开始的真实场次", f"the real session starting at {at}"))
        else:
            parts.append(_say(lang, "今日开放中", "on today"))
    if info.interest is not None:
        zh, en = CATEGORY_NAMES.get(info.interest, (info.interest, info.interest))
        parts.append(_say(lang, f"符合你对{zh}的兴趣", f"matches your interest in {en}"))
    if step.slot_id is not None:
        at = _hm(step.start)
        parts.append(_say(lang, f"{at} 入场时段有余位", f"places left in the {at} entry slot"))
    if step.comfort in COMFORT_WORDS:
        zh, en = COMFORT_WORDS[step.comfort]
        parts.append(_say(lang, zh, en))
    if info.family:
        parts.append(_say(lang, "适合孩子", "good for children"))
    if info.step_free:
        parts.append(_say(lang, "无台阶通行", "step-free access"))
    if step.leg.mode == "walk" and 0 < step.leg.minutes <= 12:
        parts.append(_say(lang, f"步行 {step.leg.minutes} 分钟可达", f"a {step.leg.minutes}-minute walk"))
    if not info.price_fen and c.kind == "venue":
        parts.append(_say(lang, "免费参观", "free entry"))
    if not parts:
        zh, en = CATEGORY_NAMES.get(c.category, (c.category, c.category))
        parts.append(_say(lang, f"常州的{zh}之一，此时开放", f"one of Changzhou's {en}, open at this time"))
    sep = "，" if lang == "zh" else "; "
    colon = "：" if lang == "zh" else ": "
    return info.title(lang) + colon + sep.join(parts[:3])


WARNINGS: dict[str, tuple[str, str]] = {
    "started_now": ("今天的开始时间已过，从 {time} 起规划", "The start time has passed today; planned from {time}"),
    "day_shortened": (
        "同行有孩子或老人，行程缩短到 {hours} 小时并安排了休息",
        "With children or seniors the day is kept to {hours} hours, with rests",
    ),
    "step_free_excluded": (
        "有 {count} 处地点无障碍信息显示有台阶或未知，已略去",
        "{count} places whose accessibility data shows steps (or says nothing) were left out",
    ),
    "booking_not_open": ("这些地点当天尚未开放预约：{names}", "Booking has not opened for that day at: {names}"),
    "fully_booked": ("这些地点当天已约满：{names}", "No places left that day for your party at: {names}"),
    "closed_today": ("这些地点今天临时闭馆：{names}", "Closed today by the authorities: {names}"),
    "interests_unmatched": (
        "当天没有符合兴趣「{names}」的开放项目，已安排其他内容",
        "Nothing matching {names} is open that day; the plan holds other things",
    ),
    "nothing_fits": (
        "这个时间段内没有能安排的开放项目",
        "Nothing open fits into this time window",
    ),
    "party_too_large_to_book": (
        "每笔预约最多 {max} 人，整团一键预约需要分开",
        "A booking takes at most {max} visitors: book-all needs a smaller party",
    ),
}


def warning_text(code: str, lang: Lang, **values: object) -> str:
    zh, en = WARNINGS[code]
    return _say(lang, zh, en).format(**values)


def interest_names(interests: list[str], lang: Lang) -> str:
    names = [CATEGORY_NAMES.get(i, (i, i))[0 if lang == "zh" else 1] for i in interests]
    return ("、" if lang == "zh" else ", ").join(names)
