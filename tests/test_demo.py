"""``python -m imagearray demo``: the CPU path (the NumPy texture-unit reference) runs
everywhere and its PNGs hold what the reference computes; on a GPU the same command
writes pictures that match the reference's within the texture unit's precision."""

from __future__ import annotations

import contextlib
import io
import math

import numpy as np
import pytest
import scipy.ndimage
from PIL import Image

import imagearray as ia
from imagearray.__main__ import main
from imagearray.demo import FILES, STEPS, backends, pictures, run, steps
from imagearray.testing import reference

SIZE = 64
UNORM8 = "unorm_int8"


def _png(path) -> np.ndarray:
    with Image.open(path) as im:
        assert im.mode == "RGBA"
        return np.asarray(im).copy()


def _shapes(size: int) -> dict[str, tuple[int, int, int]]:
    """Each PNG's (height, width, 4)."""
    return {
        "picture": (size, size, 4),
        "mipmaps": (size, 2 * size - 1, 4),
        "rotated": (size, size, 4),
        "panorama": (size // 2, size, 4),
        "atlas": (size, size, 4),
    }


@pytest.fixture(scope="module")
def cpu_run(tmp_path_factory):
    """The CLI's CPU path at a small size: (exit status, output lines, folder)."""
    out = tmp_path_factory.mktemp("demo-cpu")
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        status = main(["demo", "--out", str(out), "--size", str(SIZE), "--reference"])
    lines = buf.getvalue().splitlines()
    return status, lines, out


# ------------------------------------------------------------ the CPU path


def test_cpu_demo_exits_0_and_reports_each_step(cpu_run):
    status, lines, out = cpu_run
    assert status == 0
    assert lines[0] == (
        "reference asked for: running on the NumPy texture-unit reference "
        f"(imagearray.testing), size {SIZE}"
    )
    progress = lines[1:]
    assert [line.split("]")[0] for line in progress] == [f"[{k}/{STEPS}" for k in range(1, 8)]
    assert all(line.endswith(" ms") for line in progress[:6])
    assert "needs a GPU" in progress[6]
    for name, file in FILES.items():
        assert str(out / file) in "\n".join(progress), name


def test_cpu_demo_writes_every_png_with_its_size(cpu_run):
    _, _, out = cpu_run
    for name, shape in _shapes(SIZE).items():
        assert _png(out / FILES[name]).shape == shape, name


def test_picture_png_is_the_procedural_picture(cpu_run):
    got = _png(cpu_run[2] / FILES["picture"])
    np.testing.assert_array_equal(got, pictures.picture(SIZE))
    assert np.all(got[..., 3] == 255)
    assert len(np.unique(got.reshape(-1, 4), axis=0)) > 100  # not a flat picture


def test_mipmaps_png_holds_the_box_filtered_levels(cpu_run):
    got = _png(cpu_run[2] / FILES["mipmaps"])
    picture = pictures.picture(SIZE)
    x = 0
    for level in range(SIZE.bit_length()):
        n = SIZE >> level
        tile = got[:n, x : x + n]
        # each level the rounded mean of 2 x 2 texels of the one before
        np.testing.assert_array_equal(tile, picture, err_msg=f"level {level}")
        np.testing.assert_array_equal(
            got[n:, x : x + n], np.broadcast_to(pictures.BACKGROUND, got[n:, x : x + n].shape)
        )
        if n > 1:
            mean = picture.reshape(n // 2, 2, n // 2, 2, 4).astype(np.float64).mean(axis=(1, 3))
            picture = np.rint(mean).astype(np.uint8)
        x += n
    assert x == got.shape[1]


def test_rotated_png_is_the_reference_sampling(cpu_run):
    got = _png(cpu_run[2] / FILES["rotated"])
    picture = pictures.picture(SIZE)
    coords = pictures.rotation_coords(SIZE)
    want = reference.sample(picture, coords, steps.ROTATION_SAMPLER, UNORM8, dims=2)
    np.testing.assert_array_equal(got, pictures.to_u8(want))
    # The geometry, independently: SciPy's order-1 affine_transform of the same matrix,
    # the border colour outside ("grid-constant" interpolates towards it as the
    # texture unit's CLAMP addressing does). 8-bit filter weights: at most 2 / 256 of
    # the range off, plus the rounding to 8 bits: 2 levels.
    matrix, offset = pictures.rotation_matrix(SIZE)
    planes = [
        scipy.ndimage.affine_transform(
            picture[..., c].astype(np.float64),
            matrix,
            offset,
            order=1,
            mode="grid-constant",
            cval=pictures.BACKGROUND[c],
        )
        for c in range(4)
    ]
    exact = np.clip(np.rint(np.stack(planes, axis=-1)), 0, 255)
    assert np.abs(exact - got).max() <= 2
    assert np.all(got[0, 0] == pictures.BACKGROUND)  # a corner is outside the picture


def test_rotation_coords_turn_about_the_centre():
    c = pictures.rotation_coords(SIZE)
    centre = np.array([SIZE / 2, SIZE / 2])
    # the four texels around the centre map to points around it, turned and shrunk
    around = c[SIZE // 2 - 1 : SIZE // 2 + 1, SIZE // 2 - 1 : SIZE // 2 + 1].reshape(-1, 2)
    np.testing.assert_allclose(around.mean(axis=0), centre, atol=1e-5)
    step = c[0, 1] - c[0, 0]  # one output texel along x
    # the picture turns clockwise as shown (y down): the input is read turned back
    t = -math.radians(pictures.ROTATION_DEGREES)
    np.testing.assert_allclose(np.hypot(*step), 1 / pictures.ZOOM, rtol=1e-5)
    np.testing.assert_allclose(math.atan2(step[1], step[0]), t, rtol=1e-5)


def _face_centre_pixels(size: int):
    """(row, col, face) of the panorama's texels whose direction reads well inside
    the solid disc at a face's centre, far from its edge for a linear filter."""
    dirs = pictures.panorama_directions(size)
    face, u, v = reference.cubemap_face(dirs)
    margin = 2.0 / max(4, size // 4)  # two texels of a face
    inside = np.hypot(u - 0.5, v - 0.5) < pictures.FACE_DISC - margin
    rows, cols = np.nonzero(inside)
    return rows, cols, face[rows, cols]


def test_panorama_png_is_the_reference_cubemap_sampling(cpu_run):
    got = _png(cpu_run[2] / FILES["panorama"])
    faces = pictures.cube_faces(SIZE // 4)
    dirs = pictures.panorama_directions(SIZE)
    want = reference.sample_cubemap(faces, dirs, steps.CUBE_SAMPLER, UNORM8)
    np.testing.assert_array_equal(got, pictures.to_u8(want))
    # every face shows, and near each face's centre the panorama is its colour exactly
    rows, cols, face = _face_centre_pixels(SIZE)
    assert sorted(set(face.tolist())) == list(range(6))
    colours = np.array([(*c, 255) for c in pictures.FACE_COLOURS], np.uint8)
    np.testing.assert_array_equal(got[rows, cols], colours[face])
    # where the faces are: +z at the centre, +x to its right, -x to its left, -z at
    # the sides, +y at the top and -y at the bottom (y up, longitude towards +x)
    h, w = SIZE // 2, SIZE
    spots = {4: (h // 2, w // 2), 0: (h // 2, 3 * w // 4), 1: (h // 2, w // 4), 5: (h // 2, 0)}
    spots.update({2: (0, w // 3), 3: (h - 1, w // 3)})
    for f, (r, c) in spots.items():
        np.testing.assert_array_equal(got[r, c], colours[f], err_msg=reference.CUBEMAP_FACES[f])


def test_atlas_png_tiles_the_layers(cpu_run):
    got = _png(cpu_run[2] / FILES["atlas"])
    half = SIZE // 2
    level1 = reference.box_pyramid(pictures.picture(SIZE), 2, dims=2)[1]
    layers = [level1, *pictures.atlas_layers(half)]
    assert len(layers) == pictures.ATLAS_LAYERS
    for k, layer in enumerate(layers):
        i, j = divmod(k, 2)
        tile = got[i * half : (i + 1) * half, j * half : (j + 1) * half]
        np.testing.assert_array_equal(tile, layer, err_msg=f"layer {k}")
    assert len({layer.tobytes() for layer in layers}) == len(layers)  # all different


def test_cpu_run_returns_the_pictures_it_wrote(tmp_path):
    lines: list[str] = []
    result = run(tmp_path, 32, backend="reference", echo=lines.append)
    assert isinstance(result.backend, backends.ReferenceBackend)
    assert result.size == 32 and result.table == []
    assert sorted(result.files) == sorted(FILES)
    for name, path in result.files.items():
        np.testing.assert_array_equal(_png(path), result.steps[name].picture)
    assert len(lines) == 1 + STEPS


@pytest.mark.skipif(ia.is_available(), reason="this machine has a GPU: the demo uses it")
def test_without_a_gpu_the_plain_command_runs_on_the_reference(tmp_path, capsys):
    assert main(["demo", "--out", str(tmp_path / "out"), "--size", "16"]) == 0
    first = capsys.readouterr().out.splitlines()[0]
    assert first == (
        "no GPU found: running on the NumPy texture-unit reference (imagearray.testing), size 16"
    )
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == sorted(FILES.values())
    assert backends.ReferenceBackend.default_size == 256


@pytest.mark.parametrize("size", ["8", "x", "-3"])
def test_cli_refuses_a_bad_size(size, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["demo", "--size", size])
    assert exc.value.code == 2
    assert "--size" in capsys.readouterr().err


@pytest.mark.parametrize("size", [8, 15, True, 32.0, "64"])
def test_run_refuses_a_bad_size(size, tmp_path):
    with pytest.raises(ia.ImageArrayValueError, match="size must be an integer >= 16"):
        run(tmp_path, size, backend="reference", echo=lambda line: None)


def test_find_backend_names():
    assert isinstance(backends.find_backend("reference"), backends.ReferenceBackend)
    with pytest.raises(ia.ImageArrayValueError, match="'auto', 'gpu' or 'reference'"):
        backends.find_backend("cpu")


def test_info_and_version_still_work(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0
    assert capsys.readouterr().out.strip() == f"imagearray {ia.__version__}"
    assert main(["info"]) in (0, 1)
    assert capsys.readouterr().out.startswith(f"imagearray {ia.__version__}")


# ------------------------------------------------------------ the GPU path


def _filter_levels() -> int:
    """How far (in 8-bit levels) a linearly filtered RGBA8 picture of the GPU may be
    from the reference's: the texture unit's 8-bit weights may each land one step
    from the reference's (2D: 2 weights, 2 / 256 of the range, about 2 levels; see
    ``reference.filter_tolerance``), and the float read is then rounded to 8 bits,
    which may go the other way: one more level."""
    tol = reference.filter_tolerance(pictures.picture(16), steps.ROTATION_SAMPLER, UNORM8, dims=2)
    return math.ceil(tol * 255) + 1


def _ties(size: int) -> np.ndarray:
    """Panorama texels whose direction is (nearly) on a cube edge: two components of
    equal magnitude, where the reference picks a face by a rule the hardware was not
    measured against (``reference.cubemap_face``)."""
    a = np.sort(np.abs(pictures.panorama_directions(size)), axis=-1)
    return a[..., 2] - a[..., 1] < 1e-5 * a[..., 2]


@pytest.mark.gpu
@pytest.mark.parametrize("size", [64, 256])
def test_gpu_demo_matches_the_reference(size, tmp_path, capsys):
    assert main(["demo", "--out", str(tmp_path / "gpu"), "--size", str(size)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("GPU: ") and lines[0].endswith(f"size {size}")
    assert main(["demo", "--out", str(tmp_path / "ref"), "--size", str(size), "--reference"]) == 0
    gpu = {name: _png(tmp_path / "gpu" / f) for name, f in FILES.items()}
    ref = {name: _png(tmp_path / "ref" / f) for name, f in FILES.items()}
    for name, shape in _shapes(size).items():
        assert gpu[name].shape == shape, name

    def diff(name):
        return np.abs(gpu[name].astype(np.int16) - ref[name].astype(np.int16))

    np.testing.assert_array_equal(gpu["picture"], ref["picture"])
    # generate_mipmaps() rounds its float average to nearest, the reference rounds the
    # exact one half to even: 1 level apart at most (as tests/sampling checks)
    assert diff("mipmaps").max() <= 1
    levels = _filter_levels()
    assert diff("rotated").max() <= levels, f"rotated: more than {levels} levels off"
    pano = diff("panorama")
    assert pano[~_ties(size)].max() <= levels, f"panorama: more than {levels} levels off"
    assert _ties(size).mean() < 0.01
    # the atlas reads texel centres exactly (nearest); layer 0 is the GPU's mip level 1
    half = size // 2
    atlas = diff("atlas")
    assert atlas[:half, :half].max() <= 1
    atlas[:half, :half] = 0
    assert atlas.max() == 0
    rows, cols, face = _face_centre_pixels(size)
    colours = np.array([(*c, 255) for c in pictures.FACE_COLOURS], np.uint8)
    np.testing.assert_array_equal(gpu["panorama"][rows, cols], colours[face])


@pytest.mark.gpu
def test_gpu_demo_default_size_and_timing_table(tmp_path, capsys):
    result = run(tmp_path, backend="gpu")
    out = capsys.readouterr().out.splitlines()
    assert result.size == backends.GPUBackend.default_size == 1024
    for name, shape in _shapes(1024).items():
        assert _png(result.files[name]).shape == shape, name
    table = result.table
    assert table[0].startswith("| work") and len(table) == 4
    for row in table[2:]:
        cells = [c.strip() for c in row.strip("|").split("|")]
        ours, theirs, ratio = float(cells[1]), float(cells[2]), float(cells[3].rstrip("x"))
        assert ours > 0 and theirs > 0
        assert ratio == pytest.approx(theirs / ours, rel=0.02)
    assert out[-len(table) :] == table
