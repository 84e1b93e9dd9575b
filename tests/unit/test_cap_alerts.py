"""The CAP 1.2 parser: what the profile requires, areas, and XML that must be refused."""

from __future__ import annotations

import pytest

from integrations.cap_alerts import CapInvalid, parse_cap
from tests.api.gov_helpers import cap_alert

POLYGON = "<polygon>31.77,119.95 31.79,119.95 31.79,119.98 31.77,119.98 31.77,119.95</polygon>"


def test_parses_a_well_formed_alert_in_both_languages():
    alert = parse_cap(cap_alert(identifier="CZ-1", area=POLYGON))
    assert alert.identifier == "CZ-1" and alert.status == "Actual" and alert.msg_type == "Alert"
    assert alert.info("zh").headline.startswith("常州市气象台")
    assert alert.info("en").headline.startswith("Orange")
    area = alert.info("zh").areas[0]
    assert area.contains(31.7806, 119.9715)  # 天宁禅寺 is inside the box
    assert not area.contains(31.43, 119.48)  # 溧阳 is not


def test_circle_in_km():
    alert = parse_cap(cap_alert(area="<circle>31.7806,119.9715 1.5</circle>"))
    area = alert.infos[0].areas[0]
    assert area.contains(31.7821, 119.9714)  # 天宁宝塔, ~170 m away
    assert not area.contains(31.70, 119.97)  # ~9 km south


@pytest.mark.parametrize(
    ("xml", "field"),
    [
        ("<alert", "body"),
        ("<alert xmlns='urn:other'><identifier>x</identifier></alert>", "alert"),
        (cap_alert().replace("<severity>Severe</severity>", "<severity>Awful</severity>"), "info.severity"),
        (cap_alert().replace("<scope>Public</scope>", ""), "alert.scope"),
        (cap_alert(area="<polygon>31,119 32,119 32,120</polygon>"), "area.polygon"),
        (cap_alert(area=""), "area"),
        (cap_alert().replace("2026-07-01T14:00:00+08:00", "yesterday"), "alert.sent"),
    ],
)
def test_invalid_alerts_name_the_field(xml, field):
    with pytest.raises(CapInvalid) as err:
        parse_cap(xml)
    assert err.value.field == field


def test_entities_and_dtds_are_refused():
    bomb = (
        '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>'
        '<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2"><identifier>&lol2;</identifier></alert>'
    )
    with pytest.raises(CapInvalid):
        parse_cap(bomb)
    xxe = (
        '<?xml version="1.0"?><!DOCTYPE a [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        '<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2"><identifier>&x;</identifier></alert>'
    )
    with pytest.raises(CapInvalid):
        parse_cap(xxe)
