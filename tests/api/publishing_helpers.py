"""What `changxiang load-content` gives a tour or an exhibition made through the publishing flow, as a
factory: a tour goes public only with stops (409 `tour_has_no_stops`), an exhibition only with items."""

from __future__ import annotations

from backend.exhibitions.tables import ExhibitionItem
from backend.tours.tables import Poi, Stop


async def content_for(kind: str, item_id: int) -> None:
    """A first stop (a tour, on the first place of interest) or a first item (an exhibition)."""
    if kind == "tours":
        poi = await Poi.select(Poi.id).order_by(Poi.id).first()
        await Stop.insert(Stop(tour=item_id, position=1, poi=poi["id"], text_zh="第一站", text_en="First stop"))
        return
    await ExhibitionItem.insert(
        ExhibitionItem(
            exhibition=item_id,
            position=1,
            key="first",
            label_zh="第一件",
            label_en="First piece",
            commentary_zh="",
            commentary_en="",
            image="/media/exhibitions/test/first.png",
            width=800,
            height=600,
        )
    )
