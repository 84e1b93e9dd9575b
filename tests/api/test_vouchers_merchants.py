"""Voucher merchants (issue 17, item 1): the sample register loaded by `changxiang load-content`, the
city's real register imported from CSV, the public list, and merchant accounts made by an admin."""

from __future__ import annotations

import os
import tempfile
import tomllib
from pathlib import Path

import anyio
import pytest

from backend.lib.geo import Point, distance_m
from tests.api.voucher_helpers import admin_headers, merchant_account
from tests.conftest import ROOT, run_cli

pytestmark = pytest.mark.anyio


async def test_the_sample_merchants_are_loaded_near_real_venues(client):
    content = tomllib.loads((ROOT / "content" / "merchants.toml").read_text(encoding="utf-8"))
    assert content["sample"] is True
    venues = {v["slug"]: v for v in tomllib.loads((ROOT / "content" / "venues.toml").read_text())["venue"]}
    res = await client.get("/api/v1/merchants", params={"limit": 200, "lang": "en"})
    assert res.status_code == 200, res.text
    body = res.json()
    assert body["total"] >= 40
    by_id = {m["id"]: m for m in body["items"]}
    categories = {m["category"] for m in body["items"]}
    assert categories == {"restaurant", "tea_house", "craft_shop", "hotel", "bookshop"}
    for raw in content["merchant"]:
        m = by_id[raw["id"]]
        assert m["sample"] is True and "(sample)" in m["name"]
        venue = venues[m["near_venue"]]["location"]
        d = distance_m(Point(**m["location"]), Point(lat=venue["lat"], lng=venue["lng"]))
        assert 50 < d < 1000, (m["id"], d)


async def test_merchants_nearest_first_and_one_by_id(client):
    near = "31.7765,119.9585"  # Qingguo Lane
    res = await client.get("/api/v1/merchants", params={"near": near, "radius_m": 600, "category": "tea_house"})
    assert res.status_code == 200, res.text
    items = res.json()["items"]
    assert items and all(m["category"] == "tea_house" and m["distance_m"] <= 600 for m in items)
    assert [m["distance_m"] for m in items] == sorted(m["distance_m"] for m in items)
    one = await client.get("/api/v1/merchants/qingguo-lane-tea-house", params={"lang": "zh"})
    assert one.status_code == 200 and one.json()["name"].startswith("青果茶社")
    missing = await client.get("/api/v1/merchants/no-such-shop")
    assert missing.status_code == 404 and missing.json()["code"] == "merchant_not_found"
    bad = await client.get("/api/v1/merchants", params={"radius_m": 100})
    assert bad.status_code == 400 and bad.json()["code"] == "radius_without_near"


async def test_an_admin_makes_merchant_accounts_bound_to_merchants(client, make_account):
    merchant = await merchant_account(client, make_account, "qingguo-lane-tea-house")
    me = await client.get("/api/v1/me", headers=merchant["headers"])
    assert me.status_code == 200
    assert me.json()["roles"] == ["merchant"] and me.json()["merchant_ids"] == ["qingguo-lane-tea-house"]

    admin = await admin_headers(client)
    base = {"password": "merchant-pass-1", "display_name": "M"}
    cases = [
        ({"roles": ["merchant"], "merchant_ids": ["no-such-shop"]}, "unknown_merchant"),
        ({"roles": ["merchant"]}, "merchant_ids_required"),
        ({"roles": ["staff"], "merchant_ids": ["qingguo-lane-tea-house"]}, "merchants_need_merchant_role"),
    ]
    for i, (extra, code) in enumerate(cases):
        res = await client.post(
            "/api/v1/admin/users", json={**base, **extra, "email": f"m{i}-{os.getpid()}@x.org"}, headers=admin
        )
        assert res.status_code == 400 and res.json()["code"] == code, res.text
    # only an admin makes them
    tourist = await make_account("tourist")
    res = await client.post(
        "/api/v1/admin/users",
        json={**base, "email": "m-x@x.org", "roles": ["merchant"], "merchant_ids": ["qingguo-lane-tea-house"]},
        headers=tourist["headers"],
    )
    assert res.status_code == 403


async def test_the_citys_register_is_imported_and_can_retire_the_samples():
    """The real CLI on a database of its own: load the samples, import a register (one row in GCJ-02),
    import it again (nothing changes), then retire the samples."""
    await anyio.to_thread.run_sync(_import_on_a_database_of_its_own)


def _import_on_a_database_of_its_own() -> None:
    scratch = Path(tempfile.mkdtemp(prefix="merchants-import-"))
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{scratch / 'db.sqlite3'}", "CHANGXIANG_VAR_DIR": str(scratch)}
    env.pop("REDIS_URL", None)
    run_cli("migrate", env=env)
    assert "merchants: created=" in run_cli("load-content", env=env)
    register = scratch / "register.csv"
    register.write_text(
        "\ufeffid,name_zh,name_en,category,district,address_zh,address_en,lat,lng,coord_system,near_venue,phone\n"
        "cz-0001,老字号面馆,Old Noodle House,restaurant,tianning,南大街 1 号,1 Nandajie,31.7790,119.9560,wgs84,,\n"
        "cz-0002,运河茶楼,Canal Tea House,tea_house,zhonglou,西瀛里 2 号,2 Xiyingli,31.7748,119.9474,gcj02,,0519-1\n",
        encoding="utf-8",
    )
    out = run_cli("import-merchants", str(register), env=env)
    assert "created=2 updated=0 unchanged=0 retired=0" in out, out
    assert "created=0 updated=0 unchanged=2 retired=0" in run_cli("import-merchants", str(register), env=env)
    out = run_cli("import-merchants", str(register), "--retire-samples", env=env)
    samples = len(tomllib.loads((ROOT / "content" / "merchants.toml").read_text())["merchant"])
    assert f"retired={samples}" in out, out

    import sqlite3

    with sqlite3.connect(scratch / "db.sqlite3") as db:
        rows = dict(db.execute("SELECT merchant_id, lat FROM merchants WHERE is_active").fetchall())
        assert set(rows) == {"cz-0001", "cz-0002"}
        assert abs(rows["cz-0002"] - 31.7748) > 0.001  # GCJ-02 converted back to WGS-84 (a few hundred metres)
    bad = scratch / "bad.csv"
    bad.write_text("id,name_zh,category\nx,y,shoe_shop\n", encoding="utf-8")
    import subprocess
    import sys

    res = subprocess.run(
        [sys.executable, "-m", "backend.cli", "import-merchants", str(bad)], cwd=ROOT, env=env, capture_output=True
    )
    assert res.returncode == 1 and b"line 2" in res.stderr
