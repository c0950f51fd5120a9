"""Hypothesis strategies shared by the bad-input properties (CPU and GPU): values that
break naive code, and copy boxes that are valid half of the time (so both the
refusals and the bytes of accepted copies are exercised) and anything otherwise."""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

# negative, huge, past int64, non-integers, wrong types
WEIRD = st.one_of(
    st.integers(-3, 70),
    st.sampled_from([-(2**70), -(2**63), 2**31, 2**32, 2**63 - 1, 2**63, 2**64, 2**80]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(["4", b"4", None, True, 3.0, 1.5, np.int64(5), np.float32(2), [], {}]),
    st.integers(0, 8).map(np.uint8),
)


def plain_int(v) -> bool:
    return isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_))


def maybe(valid, weird=WEIRD):
    """``valid`` three times in four, else ``weird``."""
    return st.one_of(valid, valid, valid, weird)


def _loose_box():
    two = st.tuples(st.integers(-2, 30), st.integers(-2, 20))
    return st.one_of(two, two.map(lambda t: t + (0,)), WEIRD, st.tuples(WEIRD, WEIRD))


@st.composite
def copy_boxes(draw, host_box: tuple[int, int], image_box: tuple[int, int]):
    """(host_offset, image_offset, extent) for a copy between a host box and an image:
    a valid one (each inside its memory), or, half of the time, loose or weird ones."""
    if draw(st.booleans()):
        hw, hh = host_box
        iw, ih = image_box
        ew = draw(st.integers(1, min(hw, iw)))
        eh = draw(st.integers(1, min(hh, ih)))
        ho = (draw(st.integers(0, hw - ew)), draw(st.integers(0, hh - eh)))
        io = (draw(st.integers(0, iw - ew)), draw(st.integers(0, ih - eh)))
        return ho, io, (ew, eh)
    return draw(_loose_box()), draw(_loose_box()), draw(_loose_box())


def clearly_valid(host_offset, image_offset, extent, host_box, image_box) -> bool:
    """All three 2-tuples of ints, inside both memories, a non-empty extent."""
    boxes = (host_offset, image_offset, extent)
    if not all(
        isinstance(t, tuple) and len(t) == 2 and all(plain_int(v) for v in t) for t in boxes
    ):
        return False
    (hx, hy), (ix, iy), (ew, eh) = boxes
    (hw, hh), (iw, ih) = host_box, image_box
    return (
        min(hx, hy, ix, iy) >= 0
        and ew > 0
        and eh > 0
        and hx + ew <= hw
        and hy + eh <= hh
        and ix + ew <= iw
        and iy + eh <= ih
    )


def xy(v) -> tuple[int, int]:
    """An accepted offset as (x, y); None is the default 0; an int is x. Exactly:
    3.0 or 1.5 here would be a copy that took a non-integer."""
    if v is None:
        return 0, 0
    t = ((tuple(v) if isinstance(v, tuple) else (v,)) + (0, 0))[:2]
    assert all(plain_int(e) for e in t), f"a non-integer offset was accepted: {v!r}"
    return int(t[0]), int(t[1])
