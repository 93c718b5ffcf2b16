"""rasdaman's ``colorMap`` encode option: one band of values to grey, RGB or RGBA.

``{"type": "values" | "intervals" | "ramp", "colorTable": {"<value>": [c, ...], ...}}``;
every colour has 1, 3 or 4 components (0..255), all the same count, which is the count
of output channels. As rasdaman's ``conversion/colormap.cc`` does:

* values: a cell equal to a key gets its colour, any other cell all components 0;
* intervals: a cell below the lowest key gets the lowest colour, above the highest key
  the highest colour, otherwise the colour of the nearest key at or below it;
* ramp: as intervals, but between two keys ``a <= x < b`` the colour is
  ``(b - x) / (b - a) * colour[a] + (x - a) / (b - a) * colour[b]`` truncated to an
  integer (rasdaman casts the sum to int; its manual's worked example truncates the
  two terms separately and says 189 where the code gives 190).

NaN cells match no key and get all components 0 with every type.
"""

from __future__ import annotations

import numpy as np

from petacube.errors import InvalidParameterValue

TYPES = ("values", "intervals", "ramp")


def parse_color_map(option) -> tuple[str, np.ndarray, np.ndarray]:
    """(type, sorted keys, colours as uint8 [n, channels]) from the option, validated."""
    if not isinstance(option, dict):
        raise InvalidParameterValue('colorMap must be an object {"type": ..., "colorTable": {...}}')
    kind = str(option.get("type", "")).lower()
    if kind not in TYPES:
        raise InvalidParameterValue(f"colorMap type '{option.get('type')}': use one of {', '.join(TYPES)}")
    table = option.get("colorTable")
    if not isinstance(table, dict) or not table:
        raise InvalidParameterValue('colorMap needs a non-empty "colorTable" {"value": [r, g, b, a], ...}')
    entries = []
    for key, colour in table.items():
        try:
            value = float(key)
        except (TypeError, ValueError):
            raise InvalidParameterValue(f"colorMap key '{key}' is not a number") from None
        if (not isinstance(colour, (list, tuple)) or len(colour) not in (1, 3, 4)
                or not all(isinstance(c, (int, float)) and not isinstance(c, bool) and 0 <= c <= 255 for c in colour)):
            raise InvalidParameterValue(
                f"colorMap colour for {key}: give 1, 3 or 4 components between 0 and 255, got {colour!r}"
            )
        entries.append((value, [int(c) for c in colour]))
    sizes = {len(c) for _, c in entries}
    if len(sizes) != 1:
        raise InvalidParameterValue("colorMap colours must all have the same number of components (1, 3 or 4)")
    entries.sort(key=lambda e: e[0])
    keys = np.array([e[0] for e in entries], dtype=np.float64)
    colours = np.array([e[1] for e in entries], dtype=np.uint8)
    return kind, keys, colours


def apply_color_map(data: np.ndarray, option) -> np.ndarray:
    """Colour a 2-D array; returns uint8 [rows, cols, channels]."""
    kind, keys, colours = parse_color_map(option)
    x = np.asarray(data, dtype=np.float64)
    channels = colours.shape[1]
    out = np.zeros(x.shape + (channels,), dtype=np.uint8)
    valid = ~np.isnan(x)
    if kind == "values":
        for k, c in zip(keys, colours):
            out[x == k] = c
        return out
    # index of the key at or below each cell, clamped to the table
    idx = np.searchsorted(keys, np.where(valid, x, keys[0]), side="right") - 1
    below = idx < 0
    idx = np.clip(idx, 0, len(keys) - 1)
    out[...] = colours[idx]
    out[below] = colours[0]
    if kind == "ramp" and len(keys) > 1:
        inside = valid & (x > keys[0]) & (x < keys[-1])
        lo = np.clip(idx, 0, len(keys) - 2)
        a, b = keys[lo], keys[lo + 1]
        xv = np.where(inside, x, a)
        wa = (b - xv) / (b - a)
        wb = (xv - a) / (b - a)
        mix = wa[..., None] * colours[lo].astype(np.float64) + wb[..., None] * colours[lo + 1].astype(np.float64)
        exact = np.isin(x, keys)
        use = inside & ~exact
        out[use] = np.trunc(mix[use]).astype(np.uint8)
    out[~valid] = 0
    return out
