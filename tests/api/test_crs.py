"""placeintel.api.crs: pygeoapi's CRS look-ups memoised, with the same answers."""

from __future__ import annotations

import pytest
from pyproj.exceptions import CRSError

from placeintel.api import crs

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
BNG = "http://www.opengis.net/def/crs/EPSG/0/27700"


@pytest.fixture(scope="module", autouse=True)
def installed() -> None:
    crs.install()


def test_pygeoapi_modules_use_the_memoised_functions() -> None:
    import pygeoapi.api.itemtypes as itemtypes
    import pygeoapi.util as util

    assert itemtypes.get_crs_from_uri is crs.get_crs_from_uri
    assert util.get_crs_from_uri is crs.get_crs_from_uri
    assert itemtypes.transform_bbox is crs.transform_bbox


@pytest.mark.parametrize("uri", [CRS84, BNG, "urn:ogc:def:crs:EPSG::4326"])
def test_same_crs_as_pygeoapi_made_once(uri: str) -> None:
    made = crs.get_crs_from_uri(uri)
    original = crs._original_get_crs(uri)
    assert made is crs.get_crs_from_uri(uri)
    assert made == original and str(made) == str(original)
    assert made.to_epsg() == original.to_epsg() == made.to_epsg()


def test_unknown_uri_refused_every_time() -> None:
    for _ in range(2):
        with pytest.raises(CRSError, match="could not be identified"):
            crs.get_crs_from_uri("http://www.opengis.net/def/crs/EPSG/0/999999999")


def test_bbox_transformed_as_pygeoapi_does() -> None:
    import pyproj

    bbox = [-2.3, 53.4, -2.2, 53.5]
    expected = pyproj.Transformer.from_crs(
        crs._original_get_crs(CRS84), crs._original_get_crs(BNG)
    ).transform
    assert crs.transform_bbox(bbox, CRS84, BNG) == list(expected(*bbox[:2]) + expected(*bbox[2:]))
    assert crs.transform_bbox(bbox, CRS84, CRS84) == bbox
