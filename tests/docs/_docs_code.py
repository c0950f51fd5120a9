"""The Python code blocks of the migration guides (docs/migration/*.rst), in page
order, as the reader meets them.

A block in the left cell of a side-by-side table row (``* - .. code-block::``) is the
CuPy side, one in the right cell (``  - .. code-block::``) the imagearray side; a
block outside a table is imagearray code. :func:`run_guide` runs each side in its
own namespace, block after block (later blocks use earlier blocks' names, as the
page does), starting from the guide's :data:`PRELUDES` entry: the inputs the page
only describes in comments (``# rgba: (H, W, 4) uint8``).
"""

from __future__ import annotations

import re
import textwrap
import warnings
from dataclasses import dataclass
from pathlib import Path

GUIDES = Path(__file__).resolve().parents[2] / "docs" / "migration"
DIRECTIVE = re.compile(r"^(?P<prefix>.*?)\.\. code-block:: python\s*$")

#: Per guide: what its blocks read but do not make (names the page's comments give).
PRELUDES = {
    "cupy_texture.rst": "",
    "cupyx_ndimage.rst": """
import cupy
import numpy
import imagearray as ia
cupy.random.seed(1)
img = cupy.random.rand(128, 96, dtype=cupy.float32)
matrix = cupy.asarray([[0.9, 0.2], [-0.1, 1.1]], cupy.float32)
coords = cupy.random.rand(2, 1000, dtype=cupy.float32) * cupy.asarray([[127.0], [95.0]])
rgba = (cupy.random.rand(64, 80, 4) * 255).astype(cupy.uint8)
batch = (cupy.random.rand(16, 512, 512, 4) * 255).astype(cupy.uint8)
t = numpy.radians(numpy.arange(16) * 7.0)
mats = numpy.zeros((16, 3, 3), numpy.float32)
mats[:, 0, 0] = mats[:, 1, 1] = numpy.cos(t)
mats[:, 0, 1], mats[:, 1, 0] = -numpy.sin(t), numpy.sin(t)
mats[:, :2, 2] = 256 - mats[:, :2, :2] @ numpy.array([256.0, 256.0])
mats[:, 2, 2] = 1
vol = cupy.random.rand(256, 256, 256, dtype=cupy.float32)
matrices = [cupy.asarray(numpy.eye(4, dtype=numpy.float32)) for _ in range(2)]
matrices[1][:3, 3] = cupy.asarray([1.25, -0.5, 2.0])
""",
}


@dataclass
class Block:
    guide: str
    line: int  # 1-based line of the directive
    side: str  # "cupy", "imagearray" or "both" (outside a table)
    row: int | None  # the table row's index (pairs a cupy block with its imagearray one)
    source: str


def blocks(guide: Path) -> list[Block]:
    lines = guide.read_text().splitlines()
    found: list[Block] = []
    row = 0
    for i, line in enumerate(lines):
        m = DIRECTIVE.match(line)
        if not m:
            continue
        prefix = m.group("prefix")
        column = len(prefix)
        body = []
        for nxt in lines[i + 1 :]:
            if nxt.strip() and len(nxt) - len(nxt.lstrip()) <= column:
                break
            body.append(nxt)
        source = textwrap.dedent("\n".join(body)).strip("\n") + "\n"
        if prefix.rstrip().endswith("* -"):
            row += 1
            side, at = "cupy", row
        elif prefix.rstrip().endswith("-"):
            side, at = "imagearray", row
        else:
            side, at = "imagearray", None
        found.append(Block(guide.name, i + 1, side, at, source))
    return found


def guides() -> list[Path]:
    return sorted(p for p in GUIDES.glob("*.rst") if p.name != "index.rst")


def run_guide(guide: Path, compare) -> list[str]:
    """Run both sides of ``guide``; after each table row whose two blocks both assign
    ``out`` or ``host``, call ``compare(name, cupy_value, imagearray_value, block)``.
    Returns what ran, one line per block."""
    import cupy

    prelude = PRELUDES.get(guide.name, "")
    spaces = {"cupy": {}, "imagearray": {}}
    for ns in spaces.values():
        exec(compile(prelude, f"{guide.name}:prelude", "exec"), ns)
    ran = []
    by_row: dict[int, dict[str, Block]] = {}
    for block in blocks(guide):
        ns = spaces[block.side]
        code = compile(block.source, f"{guide.name}:{block.line}", "exec")
        # the same random inputs on both sides: each row's blocks start from one seed
        cupy.random.seed(block.line if block.row is None else block.row)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the page shows a FallbackWarning on purpose
            exec(code, ns)
        ran.append(f"{guide.name}:{block.line} ({block.side})")
        if block.row is not None:
            by_row.setdefault(block.row, {})[block.side] = block
            pair = by_row[block.row]
            if len(pair) == 2:
                for name in ("out", "host"):
                    if all(re.search(rf"^\s*{name} = ", b.source, re.M) for b in pair.values()):
                        compare(name, spaces["cupy"][name], spaces["imagearray"][name], block)
    return ran
