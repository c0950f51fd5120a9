"""What makes an ``ImageArray`` work in NumPy and CuPy code: conversions, ufuncs and
operators, and the read-only ndarray methods.

- ``cupy.asarray(img)``: zero-copy for linear-backed images (their
  ``__cuda_array_interface__``), one whole copy for CUDA-array images (whose memory
  has no linear address) through CuPy's ``__cupy_get_ndarray__`` protocol. CuPy
  functions and kernels that take array-likes (ufuncs, ``ElementwiseKernel``) see
  the same.
- ``numpy.asarray(img)``: one whole copy to the host (``img.get()``), never a row at
  a time.
- DLPack (``torch.from_dlpack(img)``): linear-backed images share their memory; a
  CUDA-array image raises ``TypeError`` (there is no address to share).
- ``img + 1``, ``numpy.sin(img)``, ``cupy.sin(img)``: CuPy arrays, computed by CuPy
  on the texels (for CUDA-array images, from one copy). ``out=`` may be an image.
- ``img.sum()``, ``.mean()``, ``.max()`` ... (and so ``cupy.mean(img)``): CuPy's
  reductions on the texels, returned as CuPy arrays.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy
import numpy.lib.mixins

from imagearray._errors import ImageArrayTypeError

if TYPE_CHECKING:
    import cupy

__all__ = ["ArrayProtocols", "KernelArgHint"]

_KDLCUDA = 2  # DLPack's device type of CUDA memory


class KernelArgHint(type):
    """The metaclass of ``ImageArray``: CuPy names an argument's type when a kernel
    refuses it ("Unsupported type ..."), so the type says what to pass instead."""

    def __repr__(cls) -> str:
        return (
            f"<class '{cls.__module__}.{cls.__qualname__}'> (a kernel takes img.texture() "
            "or img.surface(), not the image; or cupy.asarray(img) for its texels)"
        )


class ArrayProtocols(numpy.lib.mixins.NDArrayOperatorsMixin):
    """The array protocols of ``ImageArray`` (mixed in). Needs ``_as_cupy()`` (the
    texels as a CuPy array: a view for linear memory, else a copy), ``_cupy_view()``
    (linear memory only), ``get()``, ``__setitem__`` and ``_linear``."""

    # Above cupy.ndarray's 100: ``cupy_array + img`` asks the image (which converts).
    __array_priority__ = 200
    # NDArrayOperatorsMixin makes == elementwise (as for arrays); images stay
    # hashable by identity (caches and weak sets key on them).
    __hash__ = object.__hash__

    _linear: bool

    def _as_cupy(self) -> Any:  # pragma: no cover - ImageArray defines it
        raise NotImplementedError

    def _cupy_view(self) -> Any:  # pragma: no cover - ImageArray defines it
        raise NotImplementedError

    # ------------------------------------------------------------ conversions
    def __array__(self, dtype: Any = None, copy: bool | None = None) -> numpy.ndarray:
        """``numpy.asarray(img)``: one whole copy to the host (synchronous)."""
        if copy is False:
            raise ValueError(
                "an ImageArray lives in GPU memory: numpy.asarray(img) must copy it "
                "(copy=False is impossible)"
            )
        a = self.get()  # type: ignore[attr-defined]
        return a if dtype is None else a.astype(dtype, copy=False)

    def __cupy_get_ndarray__(self) -> cupy.ndarray:
        """``cupy.asarray(img)``: a copy of a CUDA-array image (one whole copy);
        linear-backed images are seen through ``__cuda_array_interface__`` instead."""
        return self._as_cupy()

    @property
    def __cuda_array_interface__(self) -> dict:
        if not self._linear:
            # AttributeError: hasattr() is False, so CuPy takes __cupy_get_ndarray__.
            raise AttributeError(
                "a CUDA-array image has no linear address (no __cuda_array_interface__): "
                "cupy.asarray(img) copies it; ia.asimage(..., memory='linear') makes "
                "images CuPy, torch and JAX can share"
            )
        return self._cupy_view().__cuda_array_interface__

    def __dlpack__(self, **kwargs: Any) -> Any:
        if not self._linear:
            raise ImageArrayTypeError(
                "a CUDA-array image cannot be shared through DLPack (its memory has no "
                "linear address): use cupy.asarray(img) (one copy) and share that, or make "
                "the image with ia.asimage(a, copy=False) / memory='linear'"
            )
        return self._cupy_view().__dlpack__(**{k: v for k, v in kwargs.items() if v is not None})

    def __dlpack_device__(self) -> tuple[int, int]:
        return (_KDLCUDA, self._handle.device)  # type: ignore[attr-defined]

    # ------------------------------------------------------------ ufuncs
    def __array_ufunc__(self, ufunc: Any, method: str, *inputs: Any, **kwargs: Any) -> Any:
        """NumPy ufuncs (and the operators) on images run as CuPy's on the texels."""
        import cupy

        func = getattr(cupy, ufunc.__name__, None)
        if func is not None and method != "__call__":
            func = getattr(func, method, None)
        if func is None:
            return NotImplemented
        args = [x._as_cupy() if isinstance(x, ArrayProtocols) else x for x in inputs]
        out = kwargs.pop("out", None)
        if out is None:
            return func(*args, **kwargs)
        # Images in out=: linear memory is written in place, CUDA arrays afterwards.
        later = [o for o in out if isinstance(o, ArrayProtocols) and not o._linear]
        direct = tuple(
            (o._cupy_view() if o._linear else None) if isinstance(o, ArrayProtocols) else o
            for o in out
        )
        if not later:
            kwargs["out"] = direct[0] if len(direct) == 1 else direct
        result = func(*args, **kwargs)
        if later:
            results = result if isinstance(result, tuple) else (result,)
            for o, r in zip(out, results):
                o[...] = r  # type: ignore[index]
        return out[0] if len(out) == 1 else out

    # ------------------------------------------------------------ python protocol
    def __bool__(self) -> bool:
        if self.size != 1:  # type: ignore[attr-defined]
            raise ValueError(
                "the truth value of an image with more than one element is ambiguous: "
                "use .any() or .all()"
            )
        return bool(self.get().reshape(-1)[0])  # type: ignore[attr-defined]

    def tolist(self) -> Any:
        """The texels as nested Python lists (one copy to the host)."""
        return self.get().tolist()  # type: ignore[attr-defined]

    if TYPE_CHECKING:  # set below from REDUCTIONS; declared here for type checkers

        def all(self, *args: Any, **kwargs: Any) -> cupy.ndarray: ...
        def any(self, *args: Any, **kwargs: Any) -> cupy.ndarray: ...
        def argmax(self, *args: Any, **kwargs: Any) -> cupy.ndarray: ...
        def argmin(self, *args: Any, **kwargs: Any) -> cupy.ndarray: ...
        def max(self, *args: Any, **kwargs: Any) -> cupy.ndarray: ...
        def mean(self, *args: Any, **kwargs: Any) -> cupy.ndarray: ...
        def min(self, *args: Any, **kwargs: Any) -> cupy.ndarray: ...
        def prod(self, *args: Any, **kwargs: Any) -> cupy.ndarray: ...
        def std(self, *args: Any, **kwargs: Any) -> cupy.ndarray: ...
        def sum(self, *args: Any, **kwargs: Any) -> cupy.ndarray: ...
        def var(self, *args: Any, **kwargs: Any) -> cupy.ndarray: ...


def _reduction(name: str):
    def method(self: ArrayProtocols, *args: Any, **kwargs: Any) -> Any:
        return getattr(self._as_cupy(), name)(*args, **kwargs)

    method.__name__ = method.__qualname__ = name
    method.__doc__ = (
        f"``cupy.ndarray.{name}`` of the texels: a CuPy array (a CUDA-array image is "
        "copied once first)."
    )
    return method


#: cupy.ndarray's read-only methods an image offers (``cupy.mean(img)`` calls them).
REDUCTIONS = ("all", "any", "argmax", "argmin", "max", "mean", "min", "prod", "std", "sum", "var")
for _name in REDUCTIONS:
    setattr(ArrayProtocols, _name, _reduction(_name))
del _name
