"""CPU tests of ia.ndimage's per-call plan keys (imagearray.ndimage._plan): what goes
into a key by value, what makes a call plan-less."""

from __future__ import annotations

import numpy as np
import pytest

import imagearray as ia
from imagearray.ndimage import _plan


def test_numbers_and_sequences_freeze_by_value():
    assert _plan._freeze([1.5, (2, "wrap")]) == _plan._freeze((1.5, [2, "wrap"]))
    assert _plan._freeze([1.5, 2.0]) != _plan._freeze([1.5, 2.5])
    assert _plan._freeze(np.float32(0.3)) != _plan._freeze(0.3)  # different offsets


def test_small_numpy_arrays_freeze_by_bytes_and_dtype():
    m = np.array([[1.0, 0.25], [0.5, 1.0]])
    assert _plan._freeze(m) == _plan._freeze(m.copy())
    changed = m.copy()
    changed[1, 1] = 1.0000001
    assert _plan._freeze(m) != _plan._freeze(changed)
    assert _plan._freeze(m) != _plan._freeze(m.astype(np.float32))
    assert _plan._freeze(m) != _plan._freeze(m.reshape(4))  # same bytes, other shape


@pytest.mark.parametrize(
    "arg",
    [np.zeros(_plan._MAX_FROZEN + 1), np.array([object()]), object(), [1.0, {}]],
    ids=["large array", "object array", "object", "dict in a list"],
)
def test_what_cannot_be_keyed(arg):
    with pytest.raises(_plan._Unkeyable):
        _plan._freeze(arg)
    assert _plan.key("zoom", _FakeImage(), None, (arg,)) is None


def test_numpy_inputs_and_unknown_outputs_make_no_key():
    assert _plan.key("zoom", np.zeros((4, 4)), None, (2.0,)) is None  # uploaded per call
    assert _plan.key("zoom", _FakeImage(), object(), (2.0,)) is None


def test_an_image_key_names_its_handle_and_layout():
    a, b = _FakeImage(), _FakeImage()
    ka = _plan.key("zoom", a, None, (2.0, "wrap"))
    assert ka is not None and ka == _plan.key("zoom", a, None, (2.0, "wrap"))
    assert ka != _plan.key("zoom", b, None, (2.0, "wrap"))
    assert ka != _plan.key("zoom", a, None, (2.0, "reflect"))
    assert ka != _plan.key("zoom", a, np.float32, (2.0, "wrap"))
    assert ka != _plan.key("shift", a, None, (2.0, "wrap"))


class _FakeImage(ia.ImageArray):
    """Only what a key reads of an ImageArray (no device needed)."""

    def __init__(self):
        self._fake_handle = object()

    @property
    def _handle(self):
        return self._fake_handle

    _vdesc = ia.ImageDescriptor.from_shape((4, 4), np.float32)
    channels = 1


def test_a_refilled_launch_sets_only_the_texture_and_output_words():
    """An order-3 plan's run puts the new Source's textures in Params.tex_f / tex_p
    (words 0 and 1) and the output in Params.out (word 5); the rest (the matrix's
    address in word 2, the coordinates') stays the first call's."""
    import types

    from imagearray.ndimage import _launch, _textures

    s = (1, 1, 1)
    params = _launch._params(
        "float", 11, 22, 33, 0, 0, 44, 0, 0, 1, s, s, 1, s, s, 1, 1.0, 0.0, (0.0,) * 12
    )
    seen = []
    launch = _launch.Launch(
        lambda *a: seen.append(a), (1,), (1,), params, s, np.float32, 0, [], [], 0
    )
    src = _textures.Source((1, 1), 1, 1, np.dtype(np.float32), 0, tex_p=202, tex_f=101)
    out = types.SimpleNamespace(data=types.SimpleNamespace(ptr=505))
    launch.launch(out, src)
    assert [int(w) for w in launch.words[:6]] == [101, 202, 33, 0, 0, 505]
    assert len(seen) == 1
    exact = _launch.Launch(lambda *a: None, (1,), (1,), params.copy(), s, np.float32, 0, [], [], 0)
    exact.words[0] = 0  # a launch without filtered reads keeps none
    exact.launch(out, src)
    assert [int(w) for w in exact.words[:3]] == [0, 202, 33]
