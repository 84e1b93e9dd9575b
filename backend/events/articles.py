"""Articles: travel guides (出行攻略) and news. What the public reads, what an article body (a content
file entry or a marketer's draft) becomes in the table, and the admin's view of a row."""

from __future__ import annotations

from typing import Any

from piccolo.custom_types import Combinable

from backend.events.schemas import ArticleAdminOut, ArticleContent, ArticleIn, ArticleOut, ArticlePatch
from backend.events.tables import Article
from backend.lib.clock import clock
from backend.lib.content_urls import safe_or_none
from backend.lib.i18n import Lang, pick
from backend.lib.pagination import Page
from backend.lib.problems import NotFound
from backend.lib.publication import visible_now
from backend.venues.schemas import Localised


def article_out(row: dict[str, Any], lang: Lang) -> ArticleOut:
    return ArticleOut(
        slug=row["slug"],
        kind=row["kind"],
        title=pick(row["title_zh"], row["title_en"], lang),
        summary=pick(row["summary_zh"], row["summary_en"], lang),
        body=pick(row["body_zh"], row["body_en"], lang),
        image=safe_or_none(row["image"]),
        venue_slugs=list(row["venue_slugs"] or []),
        published_at=row["published_at"] or row["publish_at"],
    )


async def list_articles(lang: Lang, kind: str | None, limit: int, offset: int) -> Page[ArticleOut]:
    where: Combinable = visible_now(Article, clock.now())
    if kind:
        where = where & (Article.kind == kind)
    rows = await Article.select().where(where).order_by(Article.published_at, ascending=False).order_by(Article.id)
    return Page(items=[article_out(r, lang) for r in rows[offset : offset + limit]], total=len(rows))


async def get_article(slug: str, lang: Lang) -> ArticleOut:
    row = await Article.select().where((Article.slug == slug) & visible_now(Article, clock.now())).first()
    if row is None:
        raise NotFound("article_not_found", f"no article {slug!r}")
    return article_out(row, lang)


async def article_columns(data: ArticleIn | ArticleContent) -> dict[str, Any]:
    return {
        "slug": data.slug,
        "kind": data.kind,
        "title_zh": data.title.zh,
        "title_en": data.title.en,
        "summary_zh": data.summary.zh.strip(),
        "summary_en": data.summary.en.strip(),
        "body_zh": data.body.zh.strip(),
        "body_en": data.body.en.strip(),
        "image": data.image,
        "venue_slugs": list(data.venue_slugs),
    }


async def article_patch_columns(data: ArticlePatch, current: dict[str, Any]) -> dict[str, Any]:
    cols: dict[str, Any] = {}
    for name in ("title", "summary", "body"):
        value = getattr(data, name)
        if value is not None:
            cols[f"{name}_zh"], cols[f"{name}_en"] = value.zh.strip(), value.en.strip()
    for name in ("kind", "image"):
        if getattr(data, name) is not None:
            cols[name] = getattr(data, name)
    if data.venue_slugs is not None:
        cols["venue_slugs"] = list(data.venue_slugs)
    return cols


def article_admin_out(row: dict[str, Any]) -> ArticleAdminOut:
    return ArticleAdminOut(
        id=row["id"],
        slug=row["slug"],
        kind=row["kind"],
        title=Localised(row["title_zh"], row["title_en"]),
        summary=Localised(row["summary_zh"], row["summary_en"]),
        body=Localised(row["body_zh"], row["body_en"]),
        image=row["image"],
        venue_slugs=list(row["venue_slugs"] or []),
        status=row["status"],
        publish_at=row["publish_at"],
        published_at=row["published_at"],
        created_by=row["created_by"],
        updated_at=row["updated_at"],
    )
