"""The gallery's scripts on the NumPy reference (no GPU): each writes its PNG, small
enough to commit, and its picture shows what its page says (checked against
properties computed here, independently of the script)."""

from __future__ import annotations

import subprocess
import sys

import numpy
import pytest
from _gallery_scripts import EXAMPLES, SCRIPTS, load

from imagearray.demo import pictures

ROOT = EXAMPLES.parent


def test_every_script_is_on_the_site():
    # a script the gallery shows has its committed picture, and every picture a script
    gallery = ROOT / "docs" / "_static" / "gallery"
    made = {load(name).NAME for name in SCRIPTS}
    assert made == {p.name for p in gallery.glob("*.png")}
    assert len(SCRIPTS) >= 7
    for name in SCRIPTS:
        text = (EXAMPLES / f"{name}.py").read_text()
        png = load(name).NAME
        assert f".. image:: /_static/gallery/{png}" in text
        assert f'sphinx_gallery_thumbnail_path = "_static/gallery/{png}"' in text


@pytest.mark.parametrize("name", SCRIPTS)
def test_script_writes_a_small_png(tmp_path, name):
    from PIL import Image

    run = subprocess.run(
        [sys.executable, str(EXAMPLES / f"{name}.py"), "--reference", "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    png = tmp_path / load(name).NAME
    assert "NumPy reference" in run.stdout
    assert png.stat().st_size <= load("_common").MAX_BYTES
    picture = load(name).render(False)
    with Image.open(png) as image:
        assert image.size == (picture.shape[1], picture.shape[0])


def _panels(picture: numpy.ndarray, count: int, gap: int = 4) -> list[numpy.ndarray]:
    width = (picture.shape[1] - gap * (count - 1)) // count
    return [picture[:, k * (width + gap) : k * (width + gap) + width] for k in range(count)]


def test_address_modes():
    m = load("plot_address_modes")
    repeat, mirrored, edge, border = _panels(m.render(False), 4)
    third = m.PANEL // 3
    # repeat: the three tiles of a row are the same texels (away from the seams)
    inner = slice(4, third - 4)
    for k in (1, 2):
        tile = repeat[third : 2 * third, k * third : (k + 1) * third]
        assert (
            numpy.abs(
                tile[inner, inner].astype(int) - repeat[third : 2 * third, :third][inner, inner]
            ).max()
            <= 1
        )
    # mirrored_repeat: the tile left of the middle is the middle one flipped left-right
    middle = mirrored[third : 2 * third, third : 2 * third].astype(int)
    left = mirrored[third : 2 * third, :third].astype(int)
    assert numpy.abs(left[:, ::-1][inner, inner] - middle[inner, inner]).max() <= 1
    # clamp (border): transparent black outside the picture; clamp_to_edge: opaque
    assert (border[: third - 1, :, 3] == 0).all() and (border[:, : third - 1, 3] == 0).all()
    assert (edge[..., 3] == 255).all()
    # clamp_to_edge: the top-left ninth is the picture's top-left texel everywhere
    corner = pictures.picture(m.SIZE)[0, 0]
    assert (edge[: third - 2, : third - 2] == corner).all()


def test_gather_is_a_2x2_erosion_and_dilation():
    m = load("plot_gather")
    green, eroded, dilated = _panels(m.render(False), 3)
    g = pictures.picture(m.SIZE)[..., 1].astype(int)
    # the 2x2 block right and below each texel, the last row/column clamped
    padded = numpy.pad(g, ((0, 1), (0, 1)), mode="edge")
    block = numpy.stack([padded[:-1, :-1], padded[:-1, 1:], padded[1:, :-1], padded[1:, 1:]], -1)
    assert (green[..., 0] == g).all()
    assert (eroded[..., 0] == block.min(-1)).all()
    assert (dilated[..., 0] == block.max(-1)).all()


def test_panorama_centre_reads_the_plus_z_face():
    m = load("plot_panorama")
    pano = m.render(False)
    assert pano.shape == (m.WIDTH // 2, m.WIDTH, 4)
    h, w = pano.shape[:2]
    # the centre column looks along +z (face 4), a quarter to the right along +x (face 0)
    assert tuple(pano[h // 2, w // 2, :3]) == pictures.FACE_COLOURS[4]
    assert tuple(pano[h // 2, 3 * w // 4, :3]) == pictures.FACE_COLOURS[0]
    assert tuple(pano[0, w // 2, :3]) == pictures.FACE_COLOURS[2]  # straight up: +y


def test_atlas_tiles_read_their_own_layer():
    m = load("plot_atlas")
    atlas = m.render(False)
    n = m.SIZE
    layers = [pictures.picture(n), *pictures.atlas_layers(n)]
    for k, layer in enumerate(layers):
        i, j = divmod(k, 2)
        # the tile's centre texel is (turned about it) the layer's centre, blended
        centre = atlas[
            i * n + n // 2 - 1 : i * n + n // 2 + 1, j * n + n // 2 - 1 : j * n + n // 2 + 1
        ]
        expected = layer[n // 2 - 2 : n // 2 + 2, n // 2 - 2 : n // 2 + 2].astype(int)
        assert expected.min((0, 1))[0] - 1 <= centre[..., 0].min()
        assert centre[..., 0].max() <= expected.max((0, 1))[0] + 1


def test_mipmaps_far_away_reads_the_average_colour():
    m = load("plot_mipmaps")
    out = m.render(False)
    w = m.WIDTH
    aliased, smooth = (
        out[: m.HEIGHT, :w].astype(int),
        out[: m.HEIGHT, w + 4 : 2 * w + 4].astype(int),
    )
    mean = pictures.picture(m.SIZE)[..., :3].reshape(-1, 3).mean(0)
    top = smooth[:4, :, :3]
    assert numpy.abs(top - mean).max() <= 3  # the 1x1 level: the box filter's average
    assert aliased[:4, :, :3].std() > 30  # level 0 alone: aliasing
    # the strip below: level 0 of the chain is the picture itself
    assert (out[m.HEIGHT + 4 : m.HEIGHT + 4 + m.SIZE, : m.SIZE] == pictures.picture(m.SIZE)).all()


def test_rotate_agrees_with_scipy():
    m = load("plot_rotate")
    ours, theirs, diff = _panels(m.render(False), 3)
    # inside the disc the turned picture covers (away from its edges, where scipy's
    # constant mode and the border colour blend differently), the texture unit's
    # 9-bit weights and scipy's exact ones differ by a level at most
    n = m.SIZE
    y, x = numpy.mgrid[:n, :n] + 0.5 - n / 2
    inside = numpy.hypot(x, y) < n / 2 - 4
    assert numpy.abs(ours.astype(int) - theirs)[inside].max() <= 2
    assert diff[inside][:, 0].max() <= 2 * m.GAIN
    assert ours[~inside].any() and (diff[..., 3] == 255).all()


def test_raw_kernel_turns_the_centre_only():
    m = load("plot_raw_kernel")
    out = m.render(False).astype(int)
    src = pictures.picture(m.SIZE).astype(int)
    n = m.SIZE
    y, x = numpy.mgrid[:n, :n] + 0.5 - n / 2
    r = numpy.hypot(x, y) / n
    # no turn beyond radius 0.5: those texels read the picture as it is
    assert numpy.abs(out - src)[r > 0.5 + 1 / n].max() <= 1
    # the swirl keeps each texel's distance from the centre: the centre texels are
    # a blend of the centre 4 x 4 of the picture
    c, block = n // 2, src[n // 2 - 2 : n // 2 + 2, n // 2 - 2 : n // 2 + 2]
    centre = out[c - 1 : c + 1, c - 1 : c + 1]
    assert (block.min((0, 1)) - 1 <= centre).all() and (centre <= block.max((0, 1)) + 1).all()
    # and inside radius 0.5 the picture is turned: most texels changed
    assert (numpy.abs(out - src)[r < 0.4].max(-1) > 8).mean() > 0.5
