"""The benchmarks' CPU-side logic: command line, no-GPU exit, target verdicts, JSON."""

from __future__ import annotations

import importlib
import json
import math
from pathlib import Path

import numpy as np
import pytest

from benchmarks import _util
from benchmarks.__main__ import BENCHMARKS, main
from benchmarks._util import Row


def _has_gpu() -> bool:
    import imagearray as ia

    return ia.is_available()


def test_help_lists_every_benchmark(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    for name in BENCHMARKS:
        assert name in out


def test_unknown_name_is_a_usage_error_before_any_gpu_use(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["copy", "nope"])
    assert exc.value.code == 2
    assert "unknown benchmark 'nope'" in capsys.readouterr().err


@pytest.mark.skipif(_has_gpu(), reason="checks the no-GPU message")
@pytest.mark.parametrize("name", BENCHMARKS)
def test_without_gpu_each_benchmark_stops_with_one_line(name):
    module = importlib.import_module(f"benchmarks.{name}")
    for call in (module.run, lambda: main([name])):
        with pytest.raises(SystemExit) as exc:
            call()
        msg = str(exc.value.code)
        assert msg.startswith("benchmarks: ") and "\n" not in msg


def test_time_is_what_a_caller_sees_and_zero_time_has_no_bandwidth():
    r = Row("c", "imagearray", gpu_ms=2.0, cpu_ms=5.0, nbytes=10**9)
    assert r.ms == 5.0
    assert r.gbps == pytest.approx(200.0)  # 1e9 B in 5 ms
    assert Row("c", "x", 0.0, 0.0, 10).gbps == 0.0


def test_target_lines_compare_against_the_minimum():
    rows = [
        Row("h2d", "imagearray", gpu_ms=10.0, cpu_ms=1.0, nbytes=1),
        Row("h2d", "slow", gpu_ms=9.4, cpu_ms=0.5, nbytes=1),
        Row("h2d", "edge", gpu_ms=1.0, cpu_ms=9.5, nbytes=1),
    ]
    assert _util.speedup(rows, "h2d", "slow") == pytest.approx(0.94)
    assert _util.target_line(rows, "h2d", "slow", 0.95, "g").endswith("target NOT met")
    assert "0.95x" in _util.target_line(rows, "h2d", "edge", 0.95, "g")
    assert _util.target_line(rows, "h2d", "edge", 0.95, "g").endswith("target met")
    assert _util.speedup(rows, "h2d", "missing") is None
    assert "not measured" in _util.target_line(rows, "d2h", "slow", 0.95, "g")


def test_copy_targets_one_line_per_case():
    from benchmarks import copy

    rows = []
    for case in copy.CASES:
        rows.append(Row(case, "imagearray", 10.0, 0.1, 1))
        rows.append(Row(case, copy.TEXTURE, 9.0, 0.1, 1))  # CuPy 10 % faster
    lines = copy.targets(rows)
    assert len(lines) == 4
    assert all(line.endswith("target NOT met") and "0.90x" in line for line in lines)


def test_sample_handle_target_is_at_most_twice_cupys_time():
    from benchmarks import sample

    def verdict(ia_us, cupy_us):
        rows = [
            Row(sample.HANDLE, "imagearray", 0.0, ia_us / 1000, 0),
            Row(sample.HANDLE, sample.CUPY_HANDLE, 0.0, cupy_us / 1000, 0),
        ]
        return sample.targets(rows)[-1]

    assert verdict(5.8, 2.9).endswith("target met")  # exactly 2x
    assert verdict(6.0, 2.9).endswith("target NOT met")


def test_sample_affine_matrix_is_the_rotation_of_the_coordinates():
    """affine_transform's (row, col) matrix gives the coordinates map_coordinates and
    img.sample get: x' = c(x - cx) - s(y - cy) + cx, y' = s(x - cx) + c(y - cy) + cy."""
    from benchmarks import sample

    m = sample._affine_matrix()
    c, s = math.cos(sample.ANGLE), math.sin(sample.ANGLE)
    cx = cy = (sample.N - 1) / 2
    for i, j in [(0, 0), (0, sample.N - 1), (17, 4000), (sample.N - 1, 123)]:
        y, x = i, j  # output pixel (row i, col j)
        want = (s * (x - cx) + c * (y - cy) + cy, c * (x - cx) - s * (y - cy) + cx)
        got = m @ np.array([i, j, 1.0])
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-9)
    # the centre maps to itself
    np.testing.assert_allclose(m @ np.array([cy, cx, 1.0]), [cy, cx], atol=1e-9)


def test_linear_lines_give_the_ratios_and_the_copy_saved_without_a_verdict():
    from benchmarks import linear

    rows = [
        Row(linear.EACH, "imagearray", 1.0, 0.25, 1),
        Row(linear.EACH, linear.COPY, 1.5, 3.0, 1),  # time 3.0 ms (CPU)
        Row(linear.ONCE, "imagearray", 0.8, 0.1, 1),
        Row(linear.ONCE, linear.ARRAY, 0.6, 0.1, 1),
    ]
    each, once = linear.targets(rows)
    assert "3.000 ms / linear" in each and "= 3.00x" in each
    assert "the copy saved 2.000 ms per call" in each
    assert "= 0.75x" in once
    for line in (each, once):
        assert ": target none" in line and "met" not in line
    assert all("not measured" in line for line in linear.targets(rows[:1]))


def test_mipmap_targets_half_the_copy_bandwidth_and_faster_than_cupy():
    from benchmarks import mipmaps

    case = mipmaps._case(*mipmaps.CASES[0])
    rows = [
        Row(case, "imagearray", 0.4, 0.1, 256 << 20),
        Row(case, mipmaps.D2D, 0.2, 0.01, 256 << 20),  # imagearray at exactly 50 %
        Row(case, mipmaps.CUPY, 0.39, 0.1, 256 << 20),
    ]
    lines = [line for line in mipmaps.targets(rows) if line.startswith(case)]
    assert lines[0].endswith("target met")
    assert lines[1].endswith("target NOT met")


def test_mipmap_targets_of_issue_18_copy_and_torch():
    from benchmarks import mipmaps

    case = mipmaps._case(*mipmaps.CASES[1])  # float32: the torch target applies
    rows = [
        Row(case, "imagearray", 0.05, 0.01, 64 << 20),
        Row(case, mipmaps.D2D, 0.06, 0.01, 64 << 20),  # 1.2x: faster than the copy
        Row(case, mipmaps.TORCH, 0.14, 0.02, 64 << 20),  # 2.8x: short of 3x
        Row(case, mipmaps.PER_LEVEL, 0.09, 0.01, 64 << 20),
    ]
    lines = [line for line in mipmaps.targets(rows) if line.startswith(case)]
    copy = [line for line in lines if "issue 18" in line and mipmaps.D2D in line]
    torch = [line for line in lines if mipmaps.TORCH in line]
    assert len(copy) == len(torch) == 1
    assert "1.20x" in copy[0] and copy[0].endswith("target met")
    assert "2.80x" in torch[0] and torch[0].endswith("target NOT met")
    # the per-level path (the old default) is a row without a target
    assert not [line for line in lines if mipmaps.PER_LEVEL in line]
    # RGBA8 has no torch target; unmeasured rows say so
    rgba = mipmaps._case(*mipmaps.CASES[0])
    rgba_lines = [line for line in mipmaps.targets(rows) if line.startswith(rgba)]
    assert not any(mipmaps.TORCH in line for line in rgba_lines)
    assert all("not measured" in line for line in rgba_lines)


def test_hostmem_targets_from_bandwidths():
    from benchmarks import hostmem

    case = "512 MiB host -> cupy array"
    rows = [
        Row(case, hostmem.PREPARED, 20.0, 0.1, 10**9),  # 50 GB/s
        Row(case, hostmem.PAGEABLE, 100.0, 100.0, 10**9),  # 10 GB/s: 5x
        Row(case, hostmem.PINNED, 19.0, 0.1, 10**9),  # 52.6 GB/s: 95 %
        Row("page-lock 512 MiB (one-time)", hostmem.PREPARED, 0.0, 11.0, 10**9),
    ]
    (line,) = hostmem.targets(rows)
    assert "5.00x pageable" in line and "95% of cudaMallocHost" in line
    assert line.endswith("target met")
    rows[2] = Row(case, hostmem.PINNED, 17.0, 0.1, 10**9)  # prepared at 85 %
    assert hostmem.targets(rows)[0].endswith("target NOT met")


def test_write_json(tmp_path, monkeypatch):
    monkeypatch.setenv("IMAGEARRAY_BENCH_OUT", str(tmp_path))
    rows = [Row("c", "imagearray", np.float64(2.0), 1.0, 4 * 10**6)]
    path = _util.write_json("copy", rows, {"device": "x"}, ["c: target met"])
    data = json.loads(Path(path).read_text())
    assert data["rows"][0]["gbps"] == pytest.approx(2.0)  # 4e6 B in 2 ms
    assert data["targets"] == ["c: target met"] and data["meta"] == {"device": "x"}


def test_a_failing_benchmark_does_not_hide_the_others(tmp_path, monkeypatch, capsys):
    import benchmarks.__main__ as cli
    from benchmarks import copy, mipmaps

    meta = {"device": "fake", "cupy": "0", "n_repeat": 1}
    monkeypatch.setattr(cli, "require_gpu", lambda: None)
    monkeypatch.setattr(cli, "device_meta", lambda: meta)
    monkeypatch.setenv("IMAGEARRAY_BENCH_OUT", str(tmp_path / "results"))

    def broken():
        raise AssertionError("imagearray and the raw kernel differ")

    case = mipmaps._case(*mipmaps.CASES[0])
    monkeypatch.setattr(copy, "run", broken)
    monkeypatch.setattr(mipmaps, "run", lambda: [Row(case, "imagearray", 1.0, 0.1, 8)])
    out_json = tmp_path / "all.json"
    assert cli.main(["copy", "mipmaps", "--json", str(out_json)]) == 1
    captured = capsys.readouterr()
    assert "imagearray and the raw kernel differ" in captured.err
    assert "## copy\n\nFAILED" in captured.out and "## mipmaps" in captured.out
    data = json.loads(out_json.read_text())
    assert list(data["benchmarks"]) == ["mipmaps"]
    assert data["benchmarks"]["mipmaps"]["rows"][0]["gbps"] == pytest.approx(8e-6)


def test_ndimage_targets_at_the_minimum_and_lines_for_missing_rows():
    from benchmarks import ndimage

    def rows_at(factor):
        rows = []
        for case, other, minimum, _ in ndimage.TARGETS:
            rows.append(Row(case, "imagearray", 1.0, 0.1, 1))
            rows.append(Row(case, other, minimum * factor, 0.1, 1))
        return rows

    n = len(ndimage.TARGETS)
    lines = ndimage.targets(rows_at(1.0))
    assert len(lines) == n + len(ndimage.INFO)
    assert all(line.endswith("target met") for line in lines[:n])
    assert all(line.endswith("target NOT met") for line in ndimage.targets(rows_at(0.99))[:n])
    # no torch / cuCIM rows: their comparisons say so, cuCIM's target is not checked
    assert "not measured" in next(x for x in lines if ndimage.TORCH in x)
    without_cucim = [r for r in rows_at(1.0) if not r.impl.startswith("cuCIM")]
    batch = ndimage.targets(without_cucim)[[t[0] for t in ndimage.TARGETS].index(ndimage.BATCH)]
    assert ndimage.CUCIM_LOOP in batch and batch.endswith("target NOT checked")
    rows = [
        Row(ndimage.VOL_COPY, "imagearray", 2.0, 0.1, 1),
        Row(ndimage.VOL_COPY, ndimage.CUPYX_AFFINE, 5.0, 0.1, 1),
    ]
    (info,) = [x for x in ndimage.targets(rows) if x.startswith(ndimage.VOL_COPY)]
    assert "2.50x" in info and info.endswith("target none (for information)")
    assert "met" not in info


def test_ndimage_matrices_are_the_same_rotation_in_each_convention():
    """(row, col) matrix = benchmarks.sample's; its (x, y) form (cuCIM warp) maps the
    same points; the 3D one keeps axis 0 and rotates axes 1, 2 about the centre."""
    from benchmarks import ndimage, sample

    np.testing.assert_allclose(
        ndimage._rotation(sample.N, sample.ANGLE), sample._affine_matrix(), atol=1e-9
    )
    m = ndimage._rotation(1024, 0.1)
    xy = ndimage._xy(m)
    assert xy.shape == (3, 3) and list(xy[2]) == [0.0, 0.0, 1.0]
    for r, c in [(0, 0), (5, 1000), (1023, 17)]:
        row_in, col_in = m @ np.array([r, c, 1.0])
        np.testing.assert_allclose(xy @ np.array([c, r, 1.0]), [col_in, row_in, 1.0], atol=1e-9)
    m3 = ndimage._rotation_3d(512, 0.3)
    assert m3.shape == (3, 4)
    ctr = (512 - 1) / 2
    for z in (0, 100, 511):
        p = np.array([z, 3.0, 400.0, 1.0])
        got = m3 @ p
        assert got[0] == z
        np.testing.assert_allclose(got[1:], ndimage._rotation(512, 0.3) @ p[1:], atol=1e-9)
        np.testing.assert_allclose(m3 @ np.array([z, ctr, ctr, 1.0]), [z, ctr, ctr], atol=1e-9)


def test_pyramids_targets_of_issue_18_and_the_exact_methods_line():
    from benchmarks import pyramids

    def rows_at(factor):
        rows = []
        for case, other, minimum, _ in pyramids.TARGETS:
            rows.append(Row(case, "imagearray", 1.0, 0.1, 1))
            rows.append(Row(case, other, minimum * factor, 0.1, 1))
        return rows

    n = len(pyramids.TARGETS)
    assert n == 2
    lines = pyramids.targets(rows_at(1.0))
    assert len(lines) == n + len(pyramids.INFO)
    assert all(line.endswith("target met") for line in lines[:n])
    assert all(line.endswith("target NOT met") for line in pyramids.targets(rows_at(0.99))[:n])
    assert all("not measured" in line for line in lines[n:] if pyramids.CUPYX_CHAIN in line)
    # the exact method against cuCIM: its own reference, for information
    rows = rows_at(1.0) + [Row(pyramids.DOWN4, pyramids.EXACT, 2.0, 0.1, 1)]
    (line,) = [
        x for x in pyramids.targets(rows) if x.startswith(f"{pyramids.DOWN4}: {pyramids.EXACT}")
    ]
    assert "2.50x" in line and line.endswith("target none (for information)")  # 5.0 / 2.0
    # without cuCIM: the targets say they were not checked
    bare = [r for r in rows_at(1.0) if not r.impl.startswith("cuCIM")]
    assert all(x.endswith("target NOT checked") for x in pyramids.targets(bare)[:n])


def test_peer_targets_say_why_nothing_was_measured_on_one_device():
    from benchmarks import peer

    (line,) = peer.targets([])
    assert line.startswith(peer.CASE) and "one CUDA device" in line and "target" not in line

    def pair(case, cupy_ms):
        return [Row(case, "imagearray", 2.0, 0.1, 1), Row(case, peer.CUPY, cupy_ms, 0.1, 1)]

    rows = pair(peer.CASES[0], 2.2)
    (line,) = peer.targets(rows)  # peer access could not be turned on: one case
    assert "1.10x" in line and line.endswith("target met")
    rows += pair(peer.CASES[1], 1.8)
    first, second = peer.targets(rows)
    assert first.startswith(peer.CASES[0] + ":") and second.startswith(peer.CASES[1] + ":")
    assert "0.90x" in second and second.endswith("target NOT met")


def test_settings_are_changed_for_the_block_and_put_back_after_an_error():
    from types import SimpleNamespace

    m = SimpleNamespace(A=1, B="x")
    with pytest.raises(RuntimeError):
        with _util.settings(((m, "A", 2), (m, "B", "y"))):
            assert (m.A, m.B) == (2, "y")
            raise RuntimeError("inside")
    assert (m.A, m.B) == (1, "x")
