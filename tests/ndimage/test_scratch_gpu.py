"""The scratch pool on the GPU: a 3D input copied into a pooled CUDA array, an
order-3 volume's coefficients, and the mip method's chain are lent again to the next
call of the same kind (no stale texels read: each call matches cupyx / its own first
result), and clear() frees them."""

from __future__ import annotations

import cupy
import cupyx.scipy.ndimage as ndi
import numpy as np
import pytest

import imagearray as ia
from imagearray.ndimage import _scratch, _textures

pytestmark = pytest.mark.skipif(
    not cupy.cuda.is_available(), reason="no CUDA device (cupy.cuda.is_available() is False)"
)


@pytest.fixture
def lent(monkeypatch):
    """Every image the pool lends, in order."""
    _scratch.clear()
    out = []
    take = _scratch.take

    def spy(*args, **kw):
        lease = take(*args, **kw)
        out.append(lease.image)
        return lease

    monkeypatch.setattr(_scratch, "take", spy)
    yield out
    cupy.cuda.Device().synchronize()
    _textures.collect()
    _scratch.clear()


def _settle():
    cupy.cuda.Device().synchronize()
    _textures.collect()  # leases of finished launches go back to the pool


@pytest.mark.parametrize("order", [1, 3])
def test_volumes_reuse_one_cuda_array_and_read_the_new_data(lent, order):
    rs = cupy.random.RandomState(5)
    m = np.array([[1, 0.05, 0, 0.4], [0, 0.97, 0.1, -0.3], [0.02, 0, 1.01, 0.2]])
    for _ in range(3):
        x = rs.random_sample((19, 22, 17), dtype=cupy.float32)
        want = ndi.affine_transform(x, cupy.asarray(m), order=order, mode="mirror")
        got = ia.ndimage.affine_transform(x, m, order=order, mode="mirror", precision="exact")
        assert float(cupy.abs(got - want).max()) <= 1e-5 * float(cupy.abs(want).max())
        _settle()
    assert len(lent) == 3 and lent[0] is lent[1] is lent[2]
    assert _scratch.idle_bytes() == lent[0].size * 4
    assert _scratch.clear() == 1 and not lent[0]._handle.alive


def test_a_failed_surface_pass_gives_the_coefficients_image_back(lent, monkeypatch):
    """An order-3 volume's image is taken once the plane pass is launched: where the
    pass through its surface then fails, it is idle again, and the next call gets it
    and cupyx's result."""
    from imagearray.ndimage import _spline

    def fail(*args, **kw):
        raise RuntimeError("surface pass failed")

    m = np.array([[1, 0.05, 0, 0.4], [0, 0.97, 0.1, -0.3], [0.02, 0, 1.01, 0.2]])
    x = cupy.random.RandomState(6).random_sample((40, 36, 33), dtype=cupy.float32)
    with monkeypatch.context() as patch:
        patch.setattr(_spline, "_surface_pass", fail)
        with pytest.raises(RuntimeError, match="surface pass failed"):
            ia.ndimage.affine_transform(x, m, order=3, mode="mirror")
    assert len(lent) == 1 and _scratch.idle_bytes() == lent[0].size * 4
    want = ndi.affine_transform(x, cupy.asarray(m), order=3, mode="mirror")
    got = ia.ndimage.affine_transform(x, m, order=3, mode="mirror", precision="exact")
    assert float(cupy.abs(got - want).max()) <= 1e-5 * float(cupy.abs(want).max())
    assert len(lent) == 2 and lent[1] is lent[0]


_SPIN = r"""
extern "C" __global__ void spin(long long cycles) {
    long long t0 = clock64();
    while (clock64() - t0 < cycles) {}
}
"""


def test_a_lease_still_read_by_a_launch_is_not_lent(lent):
    """A second call while the first one's launch is still queued (behind a kernel
    that spins for a while) gets another array, and both read their own data."""
    x = cupy.random.RandomState(1).random_sample((16, 18, 20), dtype=cupy.float32)
    m = np.eye(3)
    spin = cupy.RawKernel(_SPIN, "spin")
    x2 = x * 2
    ia.ndimage.affine_transform(x, m, order=1)  # compiled now, not while the GPU spins
    spin((1,), (1,), (np.int64(1000),))
    _settle()
    del lent[:]
    spin((1,), (1,), (np.int64(2_000_000_000),))  # ~1 s at the SM clock
    a = ia.ndimage.affine_transform(x, m, order=1)
    b = ia.ndimage.affine_transform(x2, m, order=1)
    assert len(lent) == 2 and lent[0] is not lent[1]
    cupy.testing.assert_allclose(a, x, rtol=1e-6)
    cupy.testing.assert_allclose(b, 2 * x, rtol=1e-6)
    _settle()
    c = ia.ndimage.affine_transform(x2, m, order=1)
    assert lent[2] is lent[1]  # the last given back is lent first
    cupy.testing.assert_allclose(c, x2, rtol=1e-6)


def test_the_mip_method_reuses_its_chain(lent):
    rs = np.random.default_rng(2)
    imgs = [cupy.asarray(rs.integers(0, 256, (256, 192, 4), dtype=np.uint8)) for _ in range(2)]
    first = [ia.ndimage.resize(im, (64, 48, 4), method="mip") for im in imgs]
    _settle()
    again = [ia.ndimage.resize(im, (64, 48, 4), method="mip") for im in reversed(imgs)]
    _settle()
    cupy.testing.assert_array_equal(again[1], first[0])
    cupy.testing.assert_array_equal(again[0], first[1])
    assert len(lent) == 4
    assert any(lent[2] is old for old in lent[:2])  # a chain came back round
