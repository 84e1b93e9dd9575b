"""WGS-84 → GCJ-02 against reference points, and the inverse."""

import pytest
from geopy.distance import geodesic

from integrations.coords import gcj02_to_bd09, gcj02_to_wgs84, wgs84_to_gcj02


# Reference values from the test suite of gcoord (hujiulong/gcoord, test/unit/crs/GCJ02.spec.js), a widely
# used implementation of the published transform: GCJ-02 (45, 123) → WGS-84 and → BD-09.
def test_inverse_matches_published_reference():
    lat, lng = gcj02_to_wgs84(45.0, 123.0)
    assert lat == pytest.approx(44.99804071, abs=1e-5) and lng == pytest.approx(122.99395597, abs=1e-5)
    fwd_lat, fwd_lng = wgs84_to_gcj02(44.99804071, 122.99395597)
    assert geodesic((fwd_lat, fwd_lng), (45.0, 123.0)).meters < 0.1


def test_bd09_matches_published_reference():
    lat, lng = gcj02_to_bd09(45.0, 123.0)
    assert lat == pytest.approx(45.00636899, abs=1e-6) and lng == pytest.approx(123.00636499, abs=1e-6)


def test_changzhou_offset_is_the_known_few_hundred_metres():
    # central Changzhou: GCJ-02 sits roughly 500 m away, mostly east-north-east
    lat, lng = wgs84_to_gcj02(31.7795, 119.9561)
    shift = geodesic((31.7795, 119.9561), (lat, lng)).meters
    assert 300 < shift < 700 and lng > 119.9561


@pytest.mark.parametrize("point", [(31.81075, 119.97365), (31.2, 119.4), (39.9, 116.4), (22.3, 114.1)])
def test_inverse_round_trip_within_a_decimetre(point):
    back = gcj02_to_wgs84(*wgs84_to_gcj02(*point))
    assert geodesic(point, back).meters < 0.1


def test_outside_china_is_unchanged():
    assert wgs84_to_gcj02(48.8566, 2.3522) == (48.8566, 2.3522)
    assert gcj02_to_wgs84(35.6762, 139.6503) == (35.6762, 139.6503)


def test_bd09_is_a_further_shift():
    lat, lng = gcj02_to_bd09(*wgs84_to_gcj02(31.7795, 119.9561))
    assert geodesic((31.7795, 119.9561), (lat, lng)).meters > 800
