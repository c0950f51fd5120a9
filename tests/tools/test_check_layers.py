"""tools/check_layers.py on small synthetic trees: each test names the exact problem lines."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

TOOL = Path(__file__).resolve().parents[2] / "tools" / "check_layers.py"
_spec = importlib.util.spec_from_file_location("check_layers", TOOL)
check_layers = importlib.util.module_from_spec(_spec)
sys.modules.setdefault("check_layers", check_layers)
_spec.loader.exec_module(check_layers)

LAYERS = """\
errors: imagearray._errors
plain: imagearray._enums imagearray._coerce imagearray._cuda
model: imagearray._descriptor imagearray._sampler imagearray._include
cython: imagearray._driver imagearray._memory imagearray._handles imagearray._copy \
imagearray._hostmem imagearray._interop imagearray._export
device: imagearray._device
memory: imagearray.memory
interop: imagearray.interop
handles: imagearray.handles
copies: imagearray.copies
sampling: imagearray.sampling
array: imagearray.array
ndimage: imagearray.ndimage
top: imagearray imagearray.__main__ imagearray.testing
"""

# A clean tree: every layer import points down, relative imports included.
BASE = {
    "imagearray/__init__.py": """\
        from imagearray import _errors
        from imagearray.array import ImageArray
        """,
    "imagearray/__main__.py": """\
        import sys

        import imagearray
        """,
    "imagearray/_errors.py": "class ImageArrayError(Exception): ...\n",
    "imagearray/_enums.py": "from imagearray._errors import ImageArrayError\n",
    "imagearray/_memory.pyi": "from imagearray.array import ImageArray\n",  # stub: skipped
    "imagearray/__pycache__/stale.py": "from imagearray.array import x\n",  # skipped
    "imagearray/memory/__init__.py": "from imagearray.memory.image_mem import ImageMem\n",
    "imagearray/memory/image_mem.py": """\
        import numpy

        from imagearray import _errors, _memory
        from .. import _driver
        """,
    "imagearray/array/__init__.py": "from .image_array import ImageArray\n",
    "imagearray/array/image_array.py": "from ..memory import ImageMem\n",
    "cython_src/imagearray/_driver.pxd": "cdef int check(int status) except -1\n",
    "cython_src/imagearray/_driver.pyx": """\
        from cuda.bindings cimport cydriver

        from imagearray._errors import CUDAError
        """,
    "cython_src/imagearray/_memory.pyx": """\
        from imagearray._driver cimport check
        from imagearray._errors import ReleasedResourceError
        """,
}


def make_tree(root: Path, files: dict[str, str], layers: str = LAYERS) -> Path:
    block = f"```text\n# bottom layer first\n\n{layers}```"
    design = f"# Design\n\nThe layers:\n\n<!-- layers -->\n{block}\n\n```\nnot: imagearray.x\n```\n"
    (root / "docs").mkdir(parents=True, exist_ok=True)
    (root / "docs" / "design.md").write_text(design)
    for rel, text in {**BASE, **files}.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    return root


def run(root: Path, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, list[str]]:
    rc = check_layers.main(["--root", str(root), *args])
    return rc, capsys.readouterr().out.splitlines()


def upward(path: str, line: int, src: str, low: str, dst: str, high: str) -> str:
    return (
        f"{path}:{line}: {src} (layer {low}) imports {dst} (layer {high}), "
        "which is above it in the layer order"
    )


def test_clean_tree_passes(tmp_path, capsys):
    rc, out = run(make_tree(tmp_path, {}), capsys)
    # modules: imagearray, __main__, _errors, _enums, memory, memory.image_mem, array,
    # array.image_array, _driver (.pyx + .pxd), _memory
    assert out == ["check_layers: 10 modules, 13 imports, 13 layers: ok"]
    assert rc == 0


def test_upward_import_at_module_level_fails(tmp_path, capsys):
    tree = make_tree(
        tmp_path, {"imagearray/_enums.py": "import os\nfrom imagearray.memory import M\n"}
    )
    rc, out = run(tree, capsys)
    assert out == [
        upward(
            "imagearray/_enums.py", 2, "imagearray._enums", "plain", "imagearray.memory", "memory"
        )
    ]
    assert rc == 1


def test_upward_import_inside_function_fails(tmp_path, capsys):
    enums = """\
        class Kind:
            def parse(self):
                # lazy: importing the array layer costs 40 ms at startup
                from imagearray.array import ImageArray
                return ImageArray
        """
    rc, out = run(make_tree(tmp_path, {"imagearray/_enums.py": enums}), capsys)
    assert out == [
        upward("imagearray/_enums.py", 4, "imagearray._enums", "plain", "imagearray.array", "array")
    ]
    assert rc == 1


def test_cycle_inside_one_layer_fails_and_is_printed(tmp_path, capsys):
    files = {
        "imagearray/_descriptor.py": "from imagearray._sampler import Sampler\n",
        "imagearray/_sampler.py": """\
            def make():
                from imagearray._include import headers  # lazy: NVRTC is slow to load
                return headers
            """,
        "imagearray/_include.py": """\
            def headers():
                try:
                    # the descriptor table is needed only here
                    import imagearray._descriptor
                except ImportError:
                    raise
            """,
    }
    rc, out = run(make_tree(tmp_path, files), capsys)
    assert out == [
        "imagearray/_descriptor.py:1: import cycle: imagearray._descriptor -> "
        "imagearray._sampler -> imagearray._include -> imagearray._descriptor"
    ]
    assert rc == 1


def test_package_init_importing_its_submodule_is_an_edge(tmp_path, capsys):
    files = {
        "imagearray/sampling/__init__.py": "\nfrom imagearray.sampling.kernels import compile\n",
        "imagearray/sampling/kernels.py": """\
            def compile():
                from imagearray import sampling  # the registry is built at first use
            """,
    }
    rc, out = run(make_tree(tmp_path, files), capsys)
    assert out == [
        "imagearray/sampling/__init__.py:2: import cycle: "
        "imagearray.sampling -> imagearray.sampling.kernels -> imagearray.sampling"
    ]
    assert rc == 1


def test_type_checking_imports_are_ignored(tmp_path, capsys):
    enums = """\
        import typing
        from typing import TYPE_CHECKING

        if TYPE_CHECKING:
            from imagearray.array import ImageArray
        if typing.TYPE_CHECKING:
            from imagearray.memory import ImageMem
        else:
            from imagearray.memory import ImageMem
        if not TYPE_CHECKING:
            from imagearray import array
        """
    rc, out = run(make_tree(tmp_path, {"imagearray/_enums.py": enums}), capsys)
    args = ("imagearray/_enums.py", "imagearray._enums", "plain")
    assert out == [
        upward(args[0], 9, args[1], args[2], "imagearray.memory", "memory"),
        upward(args[0], 11, args[1], args[2], "imagearray.array", "array"),
    ]
    assert rc == 1


def test_relative_imports_are_resolved(tmp_path, capsys):
    files = {
        "imagearray/memory/view.py": """\
            from . import image_mem
            from .image_mem import ImageMem
            from .. import _errors
            from ..array.image_array import ImageArray
            from ... import outside
            """,
    }
    rc, out = run(make_tree(tmp_path, files), capsys)
    assert out == [
        upward(
            "imagearray/memory/view.py",
            4,
            "imagearray.memory.view",
            "memory",
            "imagearray.array.image_array",
            "array",
        ),
        "imagearray/memory/view.py:5: relative import beyond the top-level package",
    ]
    assert rc == 1


CYTHON_LAYERS = LAYERS.replace(
    "memory: imagearray.memory", "memory: imagearray.memory imagearray._image_mem"
)


def test_cython_python_imports(tmp_path, capsys):
    memory = '''\
        """Memory.

        from imagearray._image_mem import not_code   (docstring)
        """
        from imagearray._driver cimport check
        from imagearray._errors import E, ReleasedResourceError

        cdef extern from "cuda.h":
            pass

        def release(obj):
            # from imagearray._enums import Kind   (comment)
            s = "from imagearray._enums import Kind"; t = 'import imagearray._enums'
            from imagearray._driver import primary_context_handle
            if obj:
                from imagearray._image_mem import x
            cimport imagearray._enums
        '''
    files = {
        "imagearray/_image_mem.py": "",
        "cython_src/imagearray/_memory.pyx": memory,
    }
    rc, out = run(make_tree(tmp_path, files, CYTHON_LAYERS), capsys)
    path = "cython_src/imagearray/_memory.pyx"
    refusal = "the Cython layer may import only imagearray._errors from Python"
    assert out == [
        upward(path, 16, "imagearray._memory", "cython", "imagearray._image_mem", "memory"),
        f"{path}:16: imagearray._memory imports the Python module imagearray._image_mem: "
        + refusal,
        f"{path}:17: imagearray._memory imports the Python module imagearray._enums: " + refusal,
    ]
    assert rc == 1


def test_multiline_parenthesised_cimport(tmp_path, capsys):
    memory = """\
        from imagearray._driver cimport (
            check,
            ensure_context,
        )
        from imagearray cimport (_copy,
                                 _enums)
        from imagearray._copy cimport \\
            copy_2d
        """
    files = {
        "imagearray/_copy.pyi": "",
        "cython_src/imagearray/_copy.pyx": "from imagearray._memory cimport release\n",
        "cython_src/imagearray/_memory.pyx": memory,
    }
    tree = make_tree(tmp_path, files)
    rc, out = run(tree, capsys)
    path = "cython_src/imagearray/_memory.pyx"
    assert out == [
        "cython_src/imagearray/_copy.pyx:1: import cycle: "
        "imagearray._copy -> imagearray._memory -> imagearray._copy",
        f"{path}:5: imagearray._memory imports the Python module imagearray._enums: "
        "the Cython layer may import only imagearray._errors from Python",
    ]
    assert rc == 1
    rc, out = run(tree, capsys, "--graph")
    assert out[:3] == [
        "imagearray._errors [errors] -> (nothing)",
        "imagearray._enums [plain] -> imagearray._errors [errors]",
        "imagearray._copy [cython] -> imagearray._memory [cython]",
    ]
    assert (
        "imagearray._memory [cython] -> imagearray._enums [plain], "
        "imagearray._copy [cython], imagearray._driver [cython]"
    ) in out


def test_uncovered_module_fails(tmp_path, capsys):
    files = {
        "imagearray/_stray.py": "from imagearray import _errors\n",
        "cython_src/imagearray/_new.pxd": "cdef int f()\n",
        "cython_src/imagearray/_new.pyx": "cdef int f():\n    return 0\n",
    }
    rc, out = run(make_tree(tmp_path, files), capsys)
    message = "is not in the layer table of docs/design.md"
    assert out == [
        f"cython_src/imagearray/_new.pyx:1: imagearray._new {message}",
        f"imagearray/_stray.py:1: imagearray._stray {message}",
    ]
    assert rc == 1


def test_function_level_import_needs_a_comment(tmp_path, capsys):
    image_array = """\
        from ..memory import ImageMem

        try:
            from imagearray import _enums
        except ImportError:
            pass


        def plain():
            import numpy
            from imagearray import _errors
            return numpy, _errors


        def above():
            # lazy: the error table is needed only when a call fails
            from imagearray import _errors


        def same_line():
            from imagearray import _errors  # lazy: only on the error path


        class Image:
            def method(self):
                import imagearray.memory.image_mem
                from imagearray._enums import (  # lazy: saves 5 ms
                    Kind,
                )
        """
    files = {"imagearray/array/image_array.py": image_array}
    rc, out = run(make_tree(tmp_path, files), capsys)
    path = "imagearray/array/image_array.py"
    assert out == [
        f"{path}:11: function-level import of imagearray._errors without a comment saying why",
        f"{path}:26: function-level import of imagearray.memory.image_mem "
        "without a comment saying why",
    ]
    assert rc == 1


def test_longest_pattern_wins(tmp_path, capsys):
    layers = LAYERS.replace("model: ", "tables: imagearray.ndimage._tables\nmodel: ")
    files = {
        "imagearray/ndimage/__init__.py": "from imagearray.ndimage import _tables\n",
        "imagearray/ndimage/_tables.py": "import imagearray.ndimage\n",
        "imagearray/memory/image_mem.py": """\
            from imagearray.ndimage._tables import TABLE
            from imagearray.ndimage import filters
            """,
    }
    rc, out = run(make_tree(tmp_path, files, layers), capsys)
    assert out == [
        upward(
            "imagearray/memory/image_mem.py",
            2,
            "imagearray.memory.image_mem",
            "memory",
            "imagearray.ndimage",
            "ndimage",
        ),
        "imagearray/ndimage/__init__.py:1: import cycle: "
        "imagearray.ndimage -> imagearray.ndimage._tables -> imagearray.ndimage",
        upward(
            "imagearray/ndimage/_tables.py",
            1,
            "imagearray.ndimage._tables",
            "tables",
            "imagearray.ndimage",
            "ndimage",
        ),
    ]
    assert rc == 1


def test_missing_module_and_missing_table(tmp_path, capsys):
    tree = make_tree(tmp_path, {"imagearray/_enums.py": "\nimport imagearray._gone\n"})
    rc, out = run(tree, capsys)
    assert out == [
        "imagearray/_enums.py:2: imports imagearray._gone, which is not a module of the package"
    ]
    assert rc == 1
    (tree / "docs" / "design.md").write_text("# Design\n\nNo table yet.\n")
    rc, out = run(tree, capsys)
    assert out == ["docs/design.md:1: no '<!-- layers -->' line: the layer table is missing"]
    assert rc == 1


def test_runs_as_a_script(tmp_path):
    tree = make_tree(tmp_path, {})
    done = subprocess.run(
        [sys.executable, str(TOOL), "--root", str(tree)], capture_output=True, text=True
    )
    assert (done.returncode, done.stdout) == (
        0,
        "check_layers: 10 modules, 13 imports, 13 layers: ok\n",
    )
    (tree / "imagearray" / "_errors.py").write_text("from imagearray import _enums\n")
    done = subprocess.run(
        [sys.executable, str(TOOL), "--root", str(tree)], capture_output=True, text=True
    )
    assert done.returncode == 1
    assert done.stdout.splitlines() == [
        "imagearray/_enums.py:1: import cycle: imagearray._enums -> imagearray._errors "
        "-> imagearray._enums",
        upward(
            "imagearray/_errors.py", 1, "imagearray._errors", "errors", "imagearray._enums", "plain"
        ),
    ]
    assert done.stderr == "check_layers: 2 problem(s)\n"


def test_the_repository_keeps_its_layers():
    # The real tree, with the real table of docs/design.md: no cycle, no upward import.
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run(
        [sys.executable, str(root / "tools" / "check_layers.py"), "--root", str(root)],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.strip().endswith(": ok")
