"""The migration guides' code runs, both sides (docs/migration/*.rst), and the two
sides of a row compute the same result where the page says they do.

Coordinator: ``IMAGEARRAY_REQUIRE_GPU=1 python -m pytest -q tests/docs``."""

from __future__ import annotations

import numpy
import pytest
from _docs_code import guides, run_guide

pytestmark = pytest.mark.gpu

GUIDES = guides()


def _host(value):
    import cupy

    return cupy.asnumpy(value) if isinstance(value, cupy.ndarray) else numpy.asarray(value)


@pytest.mark.parametrize("guide", GUIDES, ids=[g.name for g in GUIDES])
def test_guide_code_runs_on_both_sides(guide):
    compared = []

    def compare(name, theirs, ours, block):
        a, b = _host(theirs), _host(ours)
        where = f"{block.guide}:{block.line}: {name}"
        assert a.shape == b.shape and a.dtype == b.dtype, where
        if guide.name == "cupy_texture.rst":
            # the same texels through the same hardware path: equal (the page says so)
            numpy.testing.assert_array_equal(a, b, err_msg=where)
            compared.append(where)
            return
        # away from the edges: cupyx's texture_memory=True blends the border with cval
        # (CUDA's border mode), where cupyx without it and imagearray do not
        inner = tuple(slice(3, -3) if n > 8 else slice(None) for n in a.shape)
        a, b = a[inner], b[inner]
        if a.dtype == numpy.uint8:
            # 8-bit filter fractions: within 2 levels of 255 in 2D, plus rounding
            assert numpy.abs(a.astype(int) - b).max() <= 3, where
        else:
            # inputs in [0, 1): each side within ndim / 256 of the exact interpolation
            # (cupyx's texture path has the same 8-bit fractions as imagearray's)
            numpy.testing.assert_allclose(a, b, atol=0.025, err_msg=where)
        compared.append(where)

    ran = run_guide(guide, compare)
    assert ran
    assert compared, "no row of the guide was compared"
