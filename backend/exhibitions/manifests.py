"""An exhibition as a IIIF Presentation 3.0 Manifest (https://iiif.io/api/presentation/3.0/).

Language maps ("zh-Hans", "en") for label/summary/metadata/requiredStatement, one Canvas per item sized
like its image, the image as the body of a `painting` Annotation, the item's commentary as `commenting`
Annotations in the Canvas's `annotations`, the exhibition's sections as `structures` Ranges, and `rights`
from the CC / RightsStatements.org vocabularies. Each painted image names its IIIF Image API 3.0 service
(image_service.py), so Mirador and OpenSeadragon zoom into tiles. Ids are absolute URLs under the serving origin.
"""

from __future__ import annotations

from typing import Any

import msgspec

from backend.exhibitions.image_service import PROFILE, identifier_for, service_path
from backend.lib.content_urls import is_safe_url

IIIF_CONTEXT = "http://iiif.io/api/presentation/3/context.json"
IIIF_LANG = {"zh": "zh-Hans", "en": "en"}


def manifest_path(slug: str) -> str:
    return f"/api/v1/exhibitions/{slug}/manifest.json"


def _lang_map(zh: str, en: str) -> dict[str, list[str]]:
    out = {}
    if zh:
        out[IIIF_LANG["zh"]] = [zh]
    if en:
        out[IIIF_LANG["en"]] = [en]
    return out


def build_manifest(row: dict[str, Any], items: list[dict[str, Any]], base_url: str) -> dict[str, Any]:
    """An exhibitions row and its item rows as a IIIF Presentation 3.0 Manifest (a JSON-ready dict)."""
    slug = row["slug"]
    base = f"{base_url}/api/v1/exhibitions/{slug}"
    canvases = []
    for item in items:
        canvas_id = f"{base}/canvas/{item['key']}"
        image = {
            "id": base_url + item["image"],
            "type": "Image",
            "format": "image/png" if item["image"].endswith(".png") else "image/jpeg",
            "width": item["width"],
            "height": item["height"],
        }
        painted = dict(image)
        identifier = identifier_for(item["image"])
        if identifier is not None:  # deep zoom: the picture's IIIF Image API service (image_service.py)
            painted["service"] = [
                {"id": base_url + service_path(identifier), "type": "ImageService3", "profile": PROFILE}
            ]
        commentary = [
            {
                "id": f"{canvas_id}/commentary/{lang}",
                "type": "Annotation",
                "motivation": "commenting",
                "body": {
                    "type": "TextualBody",
                    "language": IIIF_LANG[lang],
                    "format": "text/plain",
                    "value": item[f"commentary_{lang}"],
                },
                "target": canvas_id,
            }
            for lang in ("zh", "en")
            if item[f"commentary_{lang}"]
        ]
        canvas = {
            "id": canvas_id,
            "type": "Canvas",
            "label": _lang_map(item["label_zh"], item["label_en"]),
            "height": item["height"],
            "width": item["width"],
            "thumbnail": [image],
            "items": [
                {
                    "id": f"{canvas_id}/page",
                    "type": "AnnotationPage",
                    "items": [
                        {
                            "id": f"{canvas_id}/painting",
                            "type": "Annotation",
                            "motivation": "painting",
                            "body": painted,
                            "target": canvas_id,
                        }
                    ],
                }
            ],
            "annotations": [{"id": f"{canvas_id}/commentary", "type": "AnnotationPage", "items": commentary}],
        }
        if item["date_zh"] or item["date_en"]:
            canvas["metadata"] = [
                {"label": _lang_map("年代", "Date"), "value": _lang_map(item["date_zh"], item["date_en"])}
            ]
        canvases.append(canvas)
    sections = msgspec.json.decode(row["sections"])
    structures = []
    for section in sections:
        members = [c for c, i in zip(canvases, items, strict=True) if i["section"] == section["key"]]
        if members:
            structures.append(
                {
                    "id": f"{base}/range/{section['key']}",
                    "type": "Range",
                    "label": _lang_map(section["label"]["zh"], section["label"]["en"]),
                    "items": [{"id": c["id"], "type": "Canvas"} for c in members],
                }
            )
    manifest = {
        "@context": IIIF_CONTEXT,
        "id": base_url + manifest_path(slug),
        "type": "Manifest",
        "label": _lang_map(row["title_zh"], row["title_en"]),
        "summary": _lang_map(row["summary_zh"], row["summary_en"]),
        "requiredStatement": {
            "label": _lang_map("出处", "Attribution"),
            "value": _lang_map(row["attribution_zh"], row["attribution_en"]),
        },
        "rights": row["rights"] if is_safe_url(row["rights"]) else None,
        "viewingDirection": "left-to-right",
        "homepage": [
            {
                "id": f"{base_url}/exhibitions/{slug}",
                "type": "Text",
                "label": _lang_map(row["title_zh"], row["title_en"]),
                "format": "text/html",
            }
        ],
        "provider": [
            {
                "id": f"{base_url}/",
                "type": "Agent",
                "label": _lang_map("常享 · 常州文旅", "Changxiang, Changzhou culture and tourism"),
            }
        ],
        "items": canvases,
    }
    if manifest["rights"] is None:
        del manifest["rights"]
    if canvases:
        manifest["thumbnail"] = canvases[0]["thumbnail"]
    if structures:
        manifest["structures"] = structures
    return manifest
