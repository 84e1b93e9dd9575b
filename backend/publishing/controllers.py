from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, Response, delete, get, patch, post
from litestar.datastructures import State
from litestar.params import Parameter
from litestar.security.jwt import Token
from litestar.status_codes import HTTP_201_CREATED, HTTP_204_NO_CONTENT

from backend.lib.auth import PUBLIC, AuthUser, require_roles
from backend.lib.i18n import request_lang
from backend.lib.pagination import Limit, Offset
from backend.media.library import GALLERY_KINDS, library
from backend.publishing.featured import FeaturedPage, public_lists
from backend.publishing.schemas import TransitionIn, TransitionOut
from backend.publishing.services import publishing

LangParam = Annotated[str | None, Parameter(description="zh or en (default: Accept-Language, then zh)")]
ItemId = Annotated[int, Parameter(ge=1, le=2**31 - 1)]


async def with_gallery_ids(kind: str, item: Any) -> Any:
    """An events, articles, tours or exhibitions item with its `gallery` (photo ids in order)."""
    if kind not in GALLERY_KINDS or not hasattr(item, "slug"):
        return item
    out: dict[str, Any] = msgspec.to_builtins(item)
    out["gallery"] = await library.ids(kind, item.slug)
    return out


class PublishingController(Controller):
    """`/admin/{kind}` for events, articles, tours, exhibitions, campaigns and featured (editors' picks):
    marketers and admins only. Bodies mirror the public shapes with each localised field as {zh, en}."""

    path = "/admin/{kind:str}"
    tags = ["publishing"]
    guards = [require_roles("marketer")]

    @get("/")
    async def list_items(
        self,
        kind: str,
        status: Annotated[str | None, Parameter(description="one publication state")] = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> dict[str, Any]:
        """Every item of the kind, in any state, most recently changed first."""
        items, total = await publishing.list(kind, status, limit, offset)
        return {"items": items, "total": total}

    @post("/", status_code=HTTP_201_CREATED)
    async def create_item(self, request: Request[AuthUser, Token, State], kind: str) -> Any:
        """Create a draft."""
        data = publishing.decode(kind, await request.body())
        return await with_gallery_ids(kind, await publishing.create(kind, request.user, data))

    @get("/{item_id:int}")
    async def get_item(self, kind: str, item_id: ItemId) -> Any:
        """The item as the body would set it; `gallery` (library photo ids) for kinds that have one."""
        return await with_gallery_ids(kind, await publishing.get(kind, item_id))

    @patch("/{item_id:int}")
    async def update_item(self, request: Request[AuthUser, Token, State], kind: str, item_id: ItemId) -> Any:
        """Change some fields (any state; a published item changes for the public at once)."""
        data = publishing.decode(kind, await request.body(), patch=True)
        return await with_gallery_ids(kind, await publishing.update(kind, item_id, data))

    @delete("/{item_id:int}", status_code=HTTP_204_NO_CONTENT)
    async def delete_item(self, kind: str, item_id: ItemId) -> None:
        await publishing.delete(kind, item_id)

    @post("/{item_id:int}/transition", status_code=200)
    async def transition(
        self, request: Request[AuthUser, Token, State], kind: str, item_id: ItemId, data: TransitionIn
    ) -> Response[Any]:
        """Move the item: draft → in_review → scheduled|published → archived (409 on another move)."""
        return Response(await publishing.transition(kind, item_id, request.user, data))

    @get("/{item_id:int}/transitions")
    async def history(self, kind: str, item_id: ItemId) -> list[TransitionOut]:
        """Every move of the item: from, to, who (null: the scheduler) and when."""
        return await publishing.history(kind, item_id)


class FeaturedController(Controller):
    """Editors' picks (编辑推荐): the lists marketers publish through `/admin/featured`."""

    path = "/featured"
    tags = ["discovery"]
    opt = PUBLIC

    @get("/")
    async def list_featured(
        self,
        request: Request[Any, Any, State],
        lang: LangParam = None,
        limit: Annotated[int, Parameter(ge=1, le=20)] = 10,
        offset: Offset = 0,
    ) -> FeaturedPage:
        """The published, due lists, most recently published first; each item as a card in the language
        asked for (title, image, slug, kind; a venue's live status). Items no longer public are left out."""
        return await public_lists(request_lang(request, lang), limit, offset)
