"""The per-call caches behind ``img.sample`` and ``create_image`` (no GPU).

``ImageArray.sample`` launches from a plan made on its first call (kernel function,
fixed arguments, output layout) and ``create_image`` remakes a handle from a recipe of
what it resolved and checked. Here the device pieces are stand-ins: CuPy arrays over
host memory, an allocator, a kernel that records its launches, texture objects that
record their creation. Every test compares the cached path with the general one it
replaces (the same launch arguments, byte for byte, or the same driver arguments),
or checks that a changed input misses the cache, that errors stay the general
path's, and that the caches are bounded and keep nothing alive.
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import re
import weakref

import numpy as np
import pytest

import imagearray as ia
from imagearray import _memory
from imagearray.array import ImageArray
from imagearray.handles import create as _image_handles
from imagearray.handles import rules as _handle_rules
from imagearray.memory import ImageMem
from imagearray.sampling import engine as _sampling
from imagearray.sampling import kernels as _kernels
from imagearray.sampling.engine import _MAX_PLANS

cupy = pytest.importorskip("cupy")
from cupy.cuda import function as cupy_function  # noqa: E402

# ------------------------------------------------------------------ stand-ins

_KEEP: list = []  # host buffers behind the stand-in CuPy arrays


def host_array(shape, dtype=np.float32, *, device=0, offset=0, strides=None):
    """A cupy.ndarray whose memory is host memory (never read by a kernel here)."""
    dtype = np.dtype(dtype)
    n = max(1, int(np.prod(shape))) * dtype.itemsize * 2 + 64
    buf = np.zeros(n, np.uint8)
    _KEEP.append(buf)
    mem = cupy.cuda.UnownedMemory(buf.ctypes.data, n, buf, device_id=device)
    return cupy.ndarray(shape, dtype, memptr=cupy.cuda.MemoryPointer(mem, offset), strides=strides)


class Launches:
    """Stand-in for the RawKernel of sample_kernel(...): records every launch, and
    whether it came through ``.kernel`` (the compiled function the plan calls)."""

    def __init__(self, log):
        self.log = log

    def __call__(self, grid, block, args, **kwargs):
        self.log.append(("RawKernel", grid, block, args))

    @property
    def kernel(self):
        log = self.log

        def function(grid, block, args):
            log.append(("Function", grid, block, args))

        return function


class FakeTexture:
    """Stand-in for imagearray._handles.TextureObject / SurfaceObject."""

    count = 0

    def __init__(self, device, memory):
        FakeTexture.count += 1
        self.raw_handle = 0x1000 + FakeTexture.count
        self.alive = True
        self.device = device
        self.memory = memory

    def destroy(self):
        if not self.alive:
            raise ia.ReleasedResourceError("the sampled image handle was already destroyed")
        self.alive = False
        self.memory = None


class FakeCy:
    """Stand-in for the Cython layer: records the driver arguments."""

    def __init__(self):
        self.calls = []

    def create_texture(self, device, *args):
        self.calls.append(("texture", device, args[:-1]))
        return FakeTexture(device, args[-1])

    def create_surface(self, device, address, memory):
        self.calls.append(("surface", device, (address,)))
        return FakeTexture(device, memory)

    def register(self, obj, dependents):  # the real one (a stand-in goes in by add)
        from imagearray import _handles

        _handles.register(obj, dependents)

    def TextureRecipe(self, *args):  # noqa: N802 (the Cython class it stands in for)
        return FakeRecipe(self, "texture", args)

    def SurfaceRecipe(self, address):  # noqa: N802
        return FakeRecipe(self, "surface", (address,))


class FakeRecipe:
    """Stand-in for imagearray._handles.TextureRecipe / SurfaceRecipe: records the
    driver arguments of each ``create`` as FakeCy does."""

    def __init__(self, cy, kind, args):
        self.cy, self.kind, self.args = cy, kind, args

    def create(self, device, memory):
        self.cy.calls.append((self.kind, device, self.args))
        return FakeTexture(device, memory)


class Owner:
    """What a wrapped CUDA array follows for .alive / .free() (wrap_array)."""

    alive = True

    def free(self):
        self.alive = False


class Env:
    def __init__(self):
        self.device = 0  # CuPy's current device, as getDevice reports it
        self.launches: list = []
        self.switches: list = []
        self.cy = FakeCy()


@pytest.fixture
def env(monkeypatch):
    e = Env()
    monkeypatch.setattr(cupy.cuda.runtime, "getDevice", lambda: e.device)

    @contextlib.contextmanager
    def device(d):
        e.switches.append(d)
        before, e.device = e.device, d
        try:
            yield
        finally:
            e.device = before

    monkeypatch.setattr(cupy.cuda, "Device", device)

    def empty(shape, dtype=float, order="C"):
        return host_array(shape, dtype, device=e.device)

    def asarray(a, dtype=None, order=None, **kw):
        assert isinstance(a, cupy.ndarray) and a.data.device_id == e.device
        assert dtype is None or np.dtype(dtype) == a.dtype
        return a

    def ascontiguousarray(a, dtype=None):
        assert a._c_contiguous and (dtype is None or np.dtype(dtype) == a.dtype)
        return a

    monkeypatch.setattr(cupy, "empty", empty)
    monkeypatch.setattr(cupy, "asarray", asarray)
    monkeypatch.setattr(cupy, "ascontiguousarray", ascontiguousarray)
    kernel = Launches(e.launches)
    monkeypatch.setattr(_kernels, "sample_kernel", lambda *key: kernel)
    for layer in range(4):  # what _layer_constant would upload
        monkeypatch.setitem(_sampling._LAYER_CONSTANTS, (0, layer), host_array((1,), np.int32))
    monkeypatch.setattr(_image_handles, "_cy", e.cy)
    monkeypatch.setattr(_image_handles, "_RECIPES", {})
    # create_image's plan memo holds the descriptor and sampler objects it planned for
    # (bounded; older than the caches tested here): emptied where a test looks at
    # what stays alive
    monkeypatch.setattr(_image_handles, "_PLANS", {})
    return e


_ADDRESS = [0x10000]


def image(desc, device=0):
    _ADDRESS[0] += 0x1000
    h = _memory.wrap_array(device, _ADDRESS[0], desc, Owner())
    return ImageArray.from_mem(ImageMem._from_handle(h))


def arg_bytes(a):
    """What the kernel receives for argument ``a``: the by-value bytes, or for an
    array its device pointer."""
    if isinstance(a, cupy.ndarray):
        return ("pointer", a.data.ptr)
    if isinstance(a, cupy_function.CPointer):
        return ctypes.string_at(a.ptr, 8)
    assert isinstance(a, np.generic), type(a)
    return a.tobytes()


def comparable(launch, out):
    """A launch with its output array as (shape, dtype): both paths allocate one."""
    _, grid, block, args = launch
    return grid, block, [("out", out.shape, out.dtype) if a is out else arg_bytes(a) for a in args]


def general(img, coords, sampler=None, layer=None, level=None):
    """The general path of img.sample (what the plan replaces), as sample() calls it."""
    kind = _sampling.kernel_kind(img)
    return _sampling._sample(
        img, kind, coords, sampler, layer, img.descriptor.num_layers, level, None, None
    )


F32 = ia.ImageDescriptor(64, 48)
RGBA8 = ia.ImageDescriptor(32, 16, channel_order="rgba", channel_type="unorm_int8")
U16_RG = ia.ImageDescriptor(8, 8, channel_order="rg", channel_type="unsigned_int16")
F32_1D = ia.ImageDescriptor(100)
F16_3D = ia.ImageDescriptor(8, 8, 8, channel_order="rgba", channel_type="fp16")
ARRAY2D = ia.ImageDescriptor(16, 16, type="array", array_size=4)

CASES = [
    ("2d f32", F32, (1000, 2), {}),
    ("2d rgba8", RGBA8, (7, 9, 2), {}),
    ("2d u16 rg, level", U16_RG, (5, 2), {"level": 1.5}),
    ("1d (n, 1)", F32_1D, (33, 1), {}),
    ("1d (n,)", F32_1D, (33,), {}),
    ("3d fp16", F16_3D, (4, 3), {}),
    ("empty", F32, (0, 2), {}),
    ("layered, layer=2", ARRAY2D, (10, 2), {"layer": 2}),
]


@pytest.mark.parametrize("name,desc,shape,kw", CASES, ids=[c[0] for c in CASES])
def test_planned_launch_equals_general_path(env, name, desc, shape, kw):
    img = image(desc)
    s = ia.Sampler("clamp_to_edge", filtering="nearest")
    c = host_array(shape)
    want_out = general(img, c, s, **kw)
    want = comparable(env.launches[-1], want_out)
    assert env.launches[-1][0] == "RawKernel"
    # the first sample() call makes the plan (and, for a new layer, runs the general
    # path once); from then on the plan launches
    img.sample(c, s, **kw)
    n = len(env.launches)
    out = img.sample(c, s, **kw)
    assert len(env.launches) == n + 1 and env.launches[-1][0] == "Function"
    assert out.shape == want_out.shape and out.dtype == want_out.dtype
    assert comparable(env.launches[-1], out) == want
    assert len(img._splans) == 1


def test_layer_view_and_default_sampler(env):
    img = image(ARRAY2D)
    view = img.layer(3)
    c = host_array((6, 2))
    want_out = general(view, c)
    want = comparable(env.launches[-1], want_out)
    out = view.sample(c)
    assert env.launches[-1][0] == "Function"
    assert comparable(env.launches[-1], out) == want
    # the layer the kernel reads is the view's, from the cached constant
    layer_arg = env.launches[-1][3][1]
    assert layer_arg is _sampling._LAYER_CONSTANTS[(0, 3)]


def test_plan_equals_a_fresh_one(env):
    img = image(RGBA8)
    s = ia.Sampler(filtering="linear")
    c = host_array((3, 2))
    img.sample(c, s)
    (plan,) = img._splans.values()
    fresh = _sampling._sample_plan(img, s, False, False)
    assert fresh is not plan
    for name in ("tex", "level_given", "layers", "ncomp", "suffix", "dtype", "device"):
        assert getattr(fresh, name) == getattr(plan, name), name
    assert [arg_bytes(a) for a in fresh.fixed] == [arg_bytes(a) for a in plan.fixed]
    assert plan.suffix == (4,) and plan.dtype == np.float32 and plan.ncomp == 2
    assert arg_bytes(plan.fixed[0]) == int(img.texture(s)).to_bytes(8, "little")


def test_changed_inputs_miss_the_plan(env):
    img = image(F32)
    s1, s2 = ia.Sampler(), ia.Sampler(filtering="linear")
    c = host_array((4, 2))
    img.sample(c, s1)
    img.sample(c, s2)
    img.sample(c, s1, level=0.0)
    assert len(img._splans) == 3
    keys = {(id(s1), True, True), (id(s2), True, True), (id(s1), False, True)}
    assert set(img._splans) == keys
    assert img._splans[(id(s1), True, True)].tex is img.texture(s1)
    assert img._splans[(id(s2), True, True)].tex is img.texture(s2)
    # an equal sampler object: its own plan, the same cached texture
    s3 = ia.Sampler()
    img.sample(c, s3)
    assert img._splans[(id(s3), True, True)].tex is img.texture(s1)


def test_destroyed_texture_remakes_the_plan(env):
    img = image(F32)
    s = ia.Sampler()
    c = host_array((4, 2))
    img.sample(c, s)
    old = img._splans[(id(s), True, True)]
    img.texture(s).destroy()
    img.sample(c, s)
    new = img._splans[(id(s), True, True)]
    assert new is not old and new.tex.alive and new.tex is img.texture(s)
    assert arg_bytes(env.launches[-1][3][0]) == int(new.tex).to_bytes(8, "little")


@pytest.fixture
def spy_general(monkeypatch):
    calls = []

    def spy(self, *args):
        calls.append(args)
        return "general"

    monkeypatch.setattr(_sampling, "_sample", spy)
    return calls


@pytest.mark.parametrize(
    "coords",
    [
        pytest.param(lambda: host_array((4, 2), np.float64), id="float64"),
        pytest.param(lambda: host_array((4, 2), offset=4), id="misaligned"),
        pytest.param(lambda: host_array((4, 2), strides=(16, 4)), id="strided"),
        pytest.param(lambda: host_array((4, 2), device=1), id="other device"),
        pytest.param(lambda: host_array((4, 3)), id="3 components"),
        pytest.param(lambda: host_array(()), id="0-d"),
        pytest.param(lambda: np.zeros((4, 2), np.float32), id="numpy"),
        pytest.param(lambda: [[1.0, 2.0]], id="list"),
    ],
)
def test_other_coordinates_take_the_general_path(env, spy_general, coords):
    img = image(F32)
    s = ia.Sampler()
    img.sample(host_array((4, 2)), s)  # makes the plan
    n = len(env.launches)
    assert img.sample(coords(), s) == "general"
    assert len(spy_general) == 1 and len(env.launches) == n


def test_other_calls_take_the_general_path(env, spy_general):
    img = image(F32)
    lay = image(ARRAY2D)
    c = host_array((4, 2))
    s = ia.Sampler()
    img.sample(c, s)
    assert img.sample(c, s, dx=c, dy=c) == "general"
    assert img.sample(c, s, layer=0) == "general"  # layer= of a standard image
    assert img.sample(c, s, layer=np.int64(0)) == "general"
    assert lay.sample(c, s) == "general"  # layer= is required: the general path says so
    assert lay.sample(c, s, layer=9) == "general"  # out of range
    assert lay.layer(1).sample(c, s, layer=1) == "general"  # the view has its layer
    assert img.sample(c, "not a sampler") == "general"
    env.device = 1  # another device current: the general path switches
    assert img.sample(c, s) == "general"
    assert len(spy_general) == 8


def test_errors_stay_the_general_paths(env):
    img = image(F32)
    s = ia.Sampler()
    c = host_array((4, 2))
    img.sample(c, s)
    with pytest.raises(ia.ImageArrayValueError, match="2 component"):
        img.sample(host_array((4, 3)), s)
    with pytest.raises(ia.ImageArrayTypeError, match="sampler must be an ia.Sampler"):
        img.sample(c, object())
    lay = image(ARRAY2D)
    with pytest.raises(ia.ImageArrayValueError, match="layer= is required"):
        lay.sample(c, s)
    with pytest.raises(ia.ImageArrayValueError, match="already selects its layer"):
        lay.layer(1).sample(c, s, layer=1)
    cube = image(ia.ImageDescriptor(4, 4, type="cubemap", array_size=6))
    with pytest.raises(ia.ImageArrayValueError, match="sample_cubemap"):
        cube.sample(host_array((4, 3)), s)


def test_plans_are_bounded_and_free_drops_them(env):
    img = image(F32)
    c = host_array((4, 2))
    samplers = [ia.Sampler(border_color=(float(i), 0, 0, 0)) for i in range(3 * _MAX_PLANS)]
    for s in samplers:
        img.sample(c, s)
        assert 1 <= len(img._splans) <= _MAX_PLANS
    # one plan dict per view, kept with the memory's handles and shared by every
    # ImageArray showing that view
    again = ImageArray.from_mem(img.mem)
    assert _sampling._sample_plans(again) is img._splans
    probe = weakref.ref(samplers[-1])
    del samplers, s
    img.free()
    assert img._splans == {} and not img._mem._cache
    _image_handles._PLANS.clear()
    gc.collect()
    assert probe() is None  # nothing cached holds a sampler after free()
    with pytest.raises(ia.ReleasedResourceError):
        img.sample(c)


# ------------------------------------------------------------------ kernels


def _parameters(src: str) -> list[tuple[str, str]]:
    decl = re.search(r"ia_sample\((.*?)\)\s*\{", src, re.S).group(1)
    out = []
    for p in decl.split(","):
        words = p.replace("*", " * ").split()
        out.append((words[-1], " ".join(w for w in words[:-1] if w != "__restrict__")))
    return out


@pytest.mark.parametrize("mode", [_kernels.PLAIN, _kernels.LEVEL, _kernels.GRADIENT])
@pytest.mark.parametrize(
    "kind", [_kernels.STANDARD, _kernels.LAYERED, _kernels.CUBEMAP, _kernels.CUBEMAP_LAYERED]
)
def test_kernel_parameters_follow_sample_params(kind, mode):
    src = _kernels.sample_source(kind, 2, "float4", "float", mode)
    params = _parameters(src)
    names = [n for n, _ in params]
    assert tuple(names) == _kernels.sample_params(kind, mode)
    layered = kind in (_kernels.LAYERED, _kernels.CUBEMAP_LAYERED)
    assert ("layer" in names) == layered == ("int L = layer[i * layer_step];" in src)
    assert ("level" in names) == (mode == _kernels.LEVEL)
    assert ("dx" in names and "dy" in names) == (mode == _kernels.GRADIENT)
    # fixed per image and sampler first, then level, then what changes per call
    assert names[0] == "tex"
    tail = ["c", "dx", "dy", "out", "n"] if mode == _kernels.GRADIENT else ["c", "out", "n"]
    assert names[-len(tail) :] == tail
    types = dict(params)
    assert types["tex"] == "unsigned long long" and types["n"] == "long long"
    if layered:
        assert types["layer_step"] == "long long"  # passed as an 8-byte value
    values = {n: i for i, n in enumerate(["tex", "layer", "layer_step", "level", "c", "dx", "dy"])}
    values.update(out=10, n=11)
    assert _kernels.sample_args(kind, mode, **values) == tuple(values[n] for n in names)


def test_standard_kernel_takes_four_arguments():
    names = _kernels.sample_params(_kernels.STANDARD, _kernels.PLAIN)
    assert names == ("tex", "c", "out", "n")


def test_by_value_types_hold_eight_byte_values():
    u64, i64 = _kernels.by_value_types()
    for cls, value in ((u64, 2**64 - 2), (i64, -(2**40) - 3)):
        a = cls(value)
        got = arg_bytes(a)
        signed = value < 0
        assert got == value.to_bytes(8, "little", signed=signed), cls


# ------------------------------------------------------------------ create_image


def _make(memory, desc=None, sampler=None):
    return ia.create_image(memory, desc, sampler)


def _recipe_cases():
    s = ia.Sampler(filtering="linear")
    n = ia.Sampler(coordinates="normalized")
    mip = ia.ImageDescriptor(16, 16, type="mipmap", num_levels=3)
    return [
        ("mem, its desc, sampler", lambda img: (img.mem, img.descriptor, s), RGBA8),
        ("mem, no desc, sampler", lambda img: (img.mem, None, s), RGBA8),
        ("mem, equal desc", lambda img: (img.mem, ia.ImageDescriptor(64, 48), s), F32),
        ("ImageArray, sampler", lambda img: (img, None, s), F32),
        ("mem handle, surface", lambda img: (img.mem.handle, None, None), F32),
        (
            "mipmap handle",
            lambda img: (_memory.wrap_mipmapped_array(0, 0x9000, mip, 3, Owner()), None, n),
            F32,
        ),
    ]


@pytest.mark.parametrize("name,args,desc", _recipe_cases(), ids=[c[0] for c in _recipe_cases()])
def test_recipe_makes_what_the_general_path_makes(env, name, args, desc):
    img = image(desc)
    memory, d, s = args(img)
    first = _make(memory, d, s)  # the general path, which records the recipe
    assert len(_image_handles._RECIPES) == 1
    (recipe,) = _image_handles._RECIPES.values()
    second = _make(memory, d, s)  # from the recipe
    assert len(env.cy.calls) == 2
    kind1, dev1, args1 = env.cy.calls[0]
    kind2, dev2, args2 = env.cy.calls[1]
    assert (kind1, dev1, args1) == (kind2, dev2, args2)
    assert type(first) is type(second) and int(first) != int(second)
    assert first.descriptor is second.descriptor
    assert first._sampler is second._sampler
    assert first.device_id == second.device_id == 0  # cupy.cuda.Device is faked here
    owner = recipe.owner()
    assert set(_image_handles.live_handles(owner)) == {first._obj, second._obj}
    # the recipe's driver arguments are a fresh plan's
    if s is not None:
        kind = _image_handles.MIPMAP if name == "mipmap handle" else _image_handles.ARRAY
        plan = _image_handles.plan_handle(first.descriptor, kind, s, address=owner.raw())
        assert args2 == _handle_rules.texture_args(plan, kind, owner.raw())
    first.destroy()
    second.destroy()
    assert env.switches == []  # the device was current: nothing switched


def test_changed_inputs_miss_the_recipe(env):
    img = image(F32)
    s = ia.Sampler()
    _make(img.mem, img.descriptor, s)
    _make(img.mem, ia.ImageDescriptor(64, 48), s)  # equal, but another object
    _make(img.mem, img.descriptor, ia.Sampler())
    _make(img.mem, None, s)
    _make(img, None, s)
    assert len(_image_handles._RECIPES) == 5
    before = dict(_image_handles._RECIPES)
    _make(img.mem, img.descriptor, s)
    assert _image_handles._RECIPES == before  # a hit records nothing


def test_errors_after_a_recipe_stay_the_general_paths(env):
    img = image(F32)
    s = ia.Sampler()
    for h in (_make(img.mem, img.descriptor, s), _make(img, None, s)):
        h.destroy()
    with pytest.raises(ia.ImageArrayValueError, match="does not match the memory"):
        _make(img.mem, ia.ImageDescriptor(8, 8), s)
    with pytest.raises(ia.ImageArrayTypeError, match="desc must be an ImageDescriptor"):
        _make(img.mem, "desc", s)
    img.free()
    with pytest.raises(ia.ReleasedResourceError, match="image memory was already freed"):
        _make(img.mem, img.descriptor, s)
    with pytest.raises(ia.ReleasedResourceError, match="this ImageArray's memory"):
        _make(img, None, s)


def test_recipes_keep_nothing_alive_and_are_bounded(env):
    img = image(F32)
    s = ia.Sampler()
    desc = ia.ImageDescriptor(64, 48)
    _make(img.mem, desc, s).destroy()
    probes = [weakref.ref(o) for o in (img, img.mem, img.mem.handle, desc, s)]
    assert len(_image_handles._RECIPES) == 1
    del img, desc, s
    _image_handles._PLANS.clear()
    gc.collect()
    assert [p() for p in probes] == [None] * len(probes)
    # a recipe whose objects died is a miss (an id may be reused by a new object)
    (recipe,) = _image_handles._RECIPES.values()
    assert recipe.memory() is None
    img = image(F32)
    for _ in range(_image_handles._RECIPES_MAX + 10):
        _make(img.mem, ia.ImageDescriptor(64, 48), None).destroy()
        assert len(_image_handles._RECIPES) <= _image_handles._RECIPES_MAX


def test_recipe_and_destroy_leave_cupys_device_alone(env):
    """The recipe path and destroy() switch no CuPy device: the Cython layer makes
    the handle's device's context current for its one driver call and restores what
    the thread had (test_handles_gpu.py holds the driver to it)."""
    img = image(F32, device=1)
    s = ia.Sampler()
    _make(img.mem, None, s).destroy()  # general path
    env.switches.clear()
    h = _make(img.mem, None, s)  # recipe, with device 0 current
    assert env.switches == [] and env.cy.calls[-1][1] == 1  # made for device 1
    h.destroy()
    assert env.switches == [] and not h.alive
    with pytest.raises(ia.ReleasedResourceError):
        h.destroy()


class RecordingRecipe:
    """Stand-in for imagearray._handles.TextureRecipe."""

    made: list = []

    def __init__(self, *args):
        RecordingRecipe.made.append(args)
        self.args = args

    def create(self, device, memory):
        return FakeTexture(device, memory)


def test_recipe_fills_the_driver_descriptors_once(env, monkeypatch):
    monkeypatch.setattr(FakeCy, "TextureRecipe", RecordingRecipe, raising=False)
    monkeypatch.setattr(RecordingRecipe, "made", [])
    img = image(RGBA8)
    s = ia.Sampler(filtering="linear", border_color=(0.25, 0, 0, 1))
    first = _make(img.mem, img.descriptor, s)
    (args,) = RecordingRecipe.made
    assert env.cy.calls == [("texture", 0, args)]  # what the general path passed
    handles = [_make(img.mem, img.descriptor, s) for _ in range(3)]
    assert len(env.cy.calls) == 1 and len(RecordingRecipe.made) == 1
    assert all(h.alive and h.descriptor is first.descriptor for h in handles)


def test_texture_recipe_holds_create_textures_arguments():
    from imagearray import _handles

    s = ia.Sampler(
        "mirrored_repeat",
        "normalized",
        "linear",
        mipmap_filtering="linear",
        max_mipmap_level_clamp=2.5,
        max_anisotropy=4,
        border_color=(0.5, 0.25, 1.0, 0.0),
    )
    plan = _image_handles.plan_handle(RGBA8, _image_handles.PITCH2D, s, pitch=512)
    args = _handle_rules.texture_args(plan, _image_handles.PITCH2D, 0x7000)
    assert _handles.TextureRecipe(*args).fields() == args
    plan = _image_handles.plan_handle(F32, _image_handles.ARRAY, s)
    args = _handle_rules.texture_args(plan, _image_handles.ARRAY, 0x9000)
    # an array's format, channels and extent are the array's: not in the descriptor
    assert _handles.TextureRecipe(*args).fields() == args[:2] + (0,) * 6 + args[8:]
