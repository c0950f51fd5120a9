"""What the package ships beside its Python: device headers and compiled extensions.

Where the device headers live, and the text that puts them into a CuPy kernel; and the
check, made first by ``import imagearray``, that the compiled extensions are there.

The device-side API (``ia::fetch_image``, ``ia::sample_image``, ``ia::write_image`` and the
rest, in ``namespace ia``) ships as CUDA headers under ``imagearray/include/imagearray/``.
A ``cupy.RawKernel`` or ``cupy.RawModule`` uses them through ``-I`` + :func:`get_include`.

CuPy caches compiled kernels by their source text and options, not by the headers that
``-I`` finds, so an edited header would otherwise keep serving the old binary:
:func:`kernel_preamble` puts a hash of the headers into the source itself.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
from pathlib import Path

from imagearray._errors import HeadersNotFoundError, ImageArrayTypeError

__all__ = ["get_include", "header_hash", "kernel_preamble", "require_extensions"]


_PACKAGE_DIR = Path(__file__).resolve().parent
_INCLUDE_DIR = _PACKAGE_DIR / "include"
_UMBRELLA = "imagearray/bindless_images.cuh"


def get_include() -> str:
    """Return the folder to pass to the CUDA compiler with ``-I``.

    Kernels then ``#include <imagearray/bindless_images.cuh>`` (or one of its parts) and
    use the device API in ``namespace ia``. Coordinates there are in texture order:
    x = width, y = height, z = depth.

    Returns
    -------
    str
        Absolute path of the ``include`` folder inside the installed package.

    Examples
    --------
    >>> import os
    >>> import imagearray._include as inc
    >>> os.path.isfile(os.path.join(inc.get_include(), "imagearray", "bindless_images.cuh"))
    True
    """
    return str(_INCLUDE_DIR)


def _header_files(include_dir: Path) -> list[Path]:
    # The same set the package ships (package data "include/imagearray/*.cuh").
    return sorted((include_dir / "imagearray").glob("*.cuh"), key=lambda p: p.name)


def header_hash(include_dir: str | os.PathLike[str] | None = None) -> str:
    """Return a short hash of the device headers' names and bytes.

    Parameters
    ----------
    include_dir : str or os.PathLike, optional
        An ``include`` folder laid out as :func:`get_include`'s (headers in its
        ``imagearray/`` subfolder). Defaults to the installed headers.

    Returns
    -------
    str
        The first 16 hexadecimal digits of a SHA-256 over every ``*.cuh`` file, in name
        order; any change to a header's bytes, or a header added, removed or renamed,
        changes it.

    Raises
    ------
    HeadersNotFoundError
        If the folder holds no ``imagearray/*.cuh`` file (a ``FileNotFoundError`` and an
        ``ImageArrayError``).
    ImageArrayTypeError
        If ``include_dir`` is not None, a str or an ``os.PathLike``.

    Examples
    --------
    >>> import imagearray._include as inc
    >>> len(inc.header_hash())
    16
    """
    if include_dir is None:
        folder = _INCLUDE_DIR
    elif isinstance(include_dir, (str, os.PathLike)):
        try:
            folder = Path(include_dir)
        except TypeError:  # a PathLike whose __fspath__ returns neither str nor bytes
            folder = None
    else:
        folder = None
    if folder is None:
        raise ImageArrayTypeError(
            f"include_dir must be None, a str or an os.PathLike, got {include_dir!r} of type "
            f"{type(include_dir).__name__}"
        )
    try:
        files = _header_files(folder)
        contents = [(path, path.read_bytes()) for path in files]
    except (OSError, ValueError) as exc:  # unreadable file or folder, NUL in the path
        raise HeadersNotFoundError(f"cannot read the headers in {str(folder)!r}: {exc}") from None
    if not files:
        raise HeadersNotFoundError(
            f"no device headers (imagearray/*.cuh) under {str(folder)!r}; "
            "the installation is incomplete"
        )
    digest = hashlib.sha256()
    for path, data in contents:
        # Name and length first, so moving bytes between files changes the hash too.
        digest.update(path.name.encode() + b"\0" + str(len(data)).encode() + b"\0")
        digest.update(data)
    return digest.hexdigest()[:16]


def kernel_preamble() -> str:
    """Return the lines to put at the top of a kernel's source.

    They define ``IMAGEARRAY_HEADER_HASH`` (see :func:`header_hash`), which makes CuPy's
    kernel cache recompile whenever the headers change, and include the whole device API.
    Compile with ``options=("-I" + get_include(),)``.

    Returns
    -------
    str
        ``'#define IMAGEARRAY_HEADER_HASH 0x<hash>\\n#include <imagearray/bindless_images.cuh>\\n'``

    Examples
    --------
    >>> import imagearray._include as inc
    >>> src = inc.kernel_preamble() + '''
    ... extern "C" __global__ void copy(ia::unsampled_image_handle src,
    ...                                ia::unsampled_image_handle dst, int w, int h) {
    ...   int x = blockIdx.x * blockDim.x + threadIdx.x;  // x = width
    ...   int y = blockIdx.y * blockDim.y + threadIdx.y;  // y = height
    ...   if (x < w && y < h)
    ...     ia::write_image(dst, make_int2(x, y), ia::fetch_image<float4>(src, make_int2(x, y)));
    ... }'''
    >>> src.startswith("#define IMAGEARRAY_HEADER_HASH 0x")
    True

    With CuPy on a GPU machine: ``cupy.RawKernel(src, "copy", options=("-I" +
    inc.get_include(),))``, called with the images' handles as ``numpy.uint64``.
    """
    return f"#define IMAGEARRAY_HEADER_HASH 0x{header_hash()}\n#include <{_UMBRELLA}>\n"


def require_extensions() -> None:
    """Raise a clear ``ImportError`` if a compiled extension of the package is missing.

    Every Cython module ships with a ``.pyi`` stub beside it (``_driver.pyi`` for
    ``imagearray._driver``), so the stubs name the extensions to look for. Without this
    check, a package without them (a wheel built from a source tree that lacked
    ``cython_src/``) fails on its first ``from imagearray import _driver`` with
    Python's "partially initialized module (most likely due to a circular import)".

    Raises
    ------
    ImportError
        Naming the missing extensions and how to build them.

    Examples
    --------
    >>> import imagearray._include as inc
    >>> inc.require_extensions()  # an installed package has them all
    """
    missing = [
        f"imagearray.{stub.stem}"
        for stub in sorted(_PACKAGE_DIR.glob("*.pyi"))
        if importlib.util.find_spec(f"imagearray.{stub.stem}") is None
    ]
    if missing:
        raise ImportError(
            f"imagearray's compiled extensions are not built: {', '.join(missing)} "
            f"not found in {_PACKAGE_DIR}. In a source checkout, `python -m pip install "
            "-e .` builds them (a C compiler is needed, no GPU; see README.md). An "
            "installed imagearray without them was built from an incomplete source tree "
            "(no cython_src/imagearray/*.pyx): reinstall it from a complete sdist or a wheel.",
            name=missing[0],
        )
