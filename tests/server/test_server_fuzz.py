"""Random KVP requests never make the server answer 500."""

from __future__ import annotations

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

KEYS = ["service", "request", "version", "coverageid", "subset", "format", "query", "acceptversions",
        "rangesubset", "scalefactor", "outputcrs", "subsettingcrs", "sections", "mediatype"]
VALUES = ["WCS", "WCPS", "WMS", "GetCapabilities", "DescribeCoverage", "GetCoverage", "ProcessCoverages",
          "DeleteCoverage", "2.0.1", "1.0.0", "S2", "SECRET", "E(500000,500100)", "ansi(\"2021-05-01\")",
          "image/tiff", "image/png", "for $c in (S2) return max($c.B02)", "for $c in (S2) return", "B02:B03",
          "0.5", "EPSG:4326", "", "%", "<x/>", "\u00e9\u0000"]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.sampled_from(KEYS) | st.text(max_size=8),
                          st.sampled_from(VALUES) | st.text(max_size=20)), max_size=6))
def test_random_kvp_never_500(server, pairs):
    r = httpx.get(server.ows(), params=pairs, timeout=30)
    assert r.status_code < 500 or r.status_code in (501, 503), r.text
