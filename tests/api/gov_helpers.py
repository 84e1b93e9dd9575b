"""Helpers for the supervision-platform tests: signed calls as the platform makes them, CAP alerts."""

from __future__ import annotations

import json
import os
import time
import uuid

from integrations.gov_platform import signed_headers

SECRET = os.environ["GOV_PLATFORM_SECRET"]


async def signed_post(
    client, path: str, body: bytes, content_type: str, *, secret: str = SECRET, ts: int | None = None
):
    headers = signed_headers(secret, body, int(time.time()) if ts is None else ts)
    headers["Content-Type"] = content_type
    return await client.post(f"/api/v1{path}", content=body, headers=headers)


async def directive(client, **fields):
    body = json.dumps({"directive_id": "d-" + uuid.uuid4().hex[:12], "reason": "test", **fields}).encode()
    return await signed_post(client, "/gov/directives", body, "application/json")


def cap_alert(
    *,
    identifier: str | None = None,
    area: str = "<geocode><valueName>GB/T 2260</valueName><value>320400</value></geocode>",
    headline_zh: str = "常州市气象台发布暴雨橙色预警",
    headline_en: str = "Orange rainstorm warning for Changzhou",
    expires: str = "2099-01-01T00:00:00+08:00",
    status: str = "Actual",
    msg_type: str = "Alert",
    references: str = "",
) -> str:
    identifier = identifier or "CZQX-" + uuid.uuid4().hex[:16]
    refs = f"<references>{references}</references>" if references else ""

    def info(lang: str, headline: str, event: str) -> str:
        return f"""
  <info>
    <language>{lang}</language>
    <category>Met</category>
    <event>{event}</event>
    <urgency>Immediate</urgency>
    <severity>Severe</severity>
    <certainty>Likely</certainty>
    <senderName>常州市气象台</senderName>
    <headline>{headline}</headline>
    <description>Heavy rain expected.</description>
    <instruction>Stay indoors.</instruction>
    <expires>{expires}</expires>
    <area><areaDesc>常州市</areaDesc>{area}</area>
  </info>"""

    return f"""<?xml version="1.0" encoding="UTF-8"?>
<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">
  <identifier>{identifier}</identifier>
  <sender>czqx@cma.gov.cn</sender>
  <sent>2026-07-01T14:00:00+08:00</sent>
  <status>{status}</status>
  <msgType>{msg_type}</msgType>
  <scope>Public</scope>{refs}{info("zh-CN", headline_zh, "暴雨")}{info("en-US", headline_en, "Rainstorm")}
</alert>"""


async def post_alert(client, xml: str, **kw):
    return await signed_post(client, "/gov/alerts", xml.encode(), "application/cap+xml", **kw)
