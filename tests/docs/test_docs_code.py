"""The migration guides' code blocks are found, paired and valid Python (here, no
GPU); tests/test_docs_code_gpu.py runs them."""

from __future__ import annotations

import pytest
from _docs_code import PRELUDES, blocks, guides

GUIDES = guides()


def test_both_guides_are_read():
    assert {g.name for g in GUIDES} == {"cupy_texture.rst", "cupyx_ndimage.rst"}
    assert set(PRELUDES) == {g.name for g in GUIDES}


@pytest.mark.parametrize("guide", GUIDES, ids=[g.name for g in GUIDES])
def test_blocks_are_paired_and_compile(guide):
    found = blocks(guide)
    text = guide.read_text()
    assert len(found) == text.count(".. code-block:: python")
    rows: dict[int, list[str]] = {}
    for b in found:
        compile(b.source, f"{guide.name}:{b.line}", "exec")
        assert b.source.strip(), f"{guide.name}:{b.line}: empty block"
        if b.row is not None:
            rows.setdefault(b.row, []).append(b.side)
    # every side-by-side row has the CuPy block first, then the imagearray one
    assert rows and all(sides == ["cupy", "imagearray"] for sides in rows.values()), rows
    compile(PRELUDES[guide.name], f"{guide.name}:prelude", "exec")


def test_a_block_is_read_whole():
    guide = next(g for g in GUIDES if g.name == "cupy_texture.rst")
    first = blocks(guide)[0]
    assert first.side == "cupy" and first.source.startswith("import cupy, numpy\n")
    assert 'k = cupy.RawKernel(src, "k")' in first.source  # the block's last line
    assert "import imagearray" not in first.source  # and nothing of the next cell
