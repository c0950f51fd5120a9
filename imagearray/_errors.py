"""The ``ImageArrayError`` family: every exception imagearray raises on purpose."""

from __future__ import annotations

__all__ = [
    "ImageArrayError",
    "CUDAError",
    "CUDAOutOfMemoryError",
    "CUDAUnavailableError",
    "InvalidDescriptorError",
    "CopyError",
    "DeviceMismatchError",
    "ReleasedResourceError",
    "ImageArrayValueError",
    "ImageArrayTypeError",
    "ImageArrayIndexError",
    "HeadersNotFoundError",
    "SamplingWarning",
]


class ImageArrayError(Exception):
    """Base class of every error imagearray raises on purpose."""


class ImageArrayValueError(ImageArrayError, ValueError):
    """An argument has the right type but a value that is not allowed."""


class ImageArrayTypeError(ImageArrayError, TypeError):
    """An argument has a type that is not allowed."""


class ImageArrayIndexError(ImageArrayError, IndexError):
    """An index is out of range or malformed (an ``IndexError``, as NumPy raises)."""


class CUDAError(ImageArrayError, RuntimeError):
    """A CUDA driver call failed.

    Attributes
    ----------
    code : int
        The ``CUresult`` value.
    name : str
        The driver's error name, e.g. ``"CUDA_ERROR_INVALID_VALUE"``.
    text : str
        The driver's description of the error.
    what : str
        What imagearray was doing, e.g. ``"cuArray3DCreate (2D image 64x64)"``.

    Notes
    -----
    A fault in device code (a user kernel writing a surface out of bounds, reading
    freed memory) is sticky: CUDA contexts do not recover from it. The next
    imagearray call that reaches the driver raises this error naming the fault
    (``CUDA_ERROR_ILLEGAL_ADDRESS``, ``CUDA_ERROR_LAUNCH_FAILED``, ...), and so does
    every later one; the process must be restarted to use the device again.
    Out-of-memory is not a fault: :class:`CUDAOutOfMemoryError` leaves the
    context usable, and freeing memory lets the next allocation succeed.
    """

    def __init__(self, code: int, name: str, text: str, what: str) -> None:
        self.code = int(code)
        self.name = name
        self.text = text
        self.what = what
        super().__init__(f"{what} failed: {name}: {text}")

    def __reduce__(self):
        return (type(self), (self.code, self.name, self.text, self.what))


class CUDAOutOfMemoryError(CUDAError, MemoryError):
    """The device ran out of memory (``CUDA_ERROR_OUT_OF_MEMORY``)."""


class CUDAUnavailableError(ImageArrayError, RuntimeError):
    """No CUDA driver or no CUDA device is available on this machine."""


class InvalidDescriptorError(ImageArrayValueError):
    """An :class:`ImageDescriptor` breaks one of the spec's rules."""


class CopyError(ImageArrayValueError):
    """A copy was refused before anything was written.

    Attributes
    ----------
    scenario : int or None
        Which of the spec's copy-failure scenarios applies (1-10, numbered as in
        "Explicit copies" of the bindless-images specification), or None for
        other invalid input (wrong types, unsupported direction).
    """

    SCENARIOS = {
        1: "memory not on the queue's device/context",
        2: "descriptor does not match the allocation",
        3: "copy extent larger than the allocation",
        4: "host extent larger than the host allocation",
        5: "source extent larger than the source allocation",
        6: "destination extent larger than the destination allocation",
        7: "source offset + copy extent out of bounds",
        8: "destination offset + copy extent out of bounds",
        9: "device row pitch not aligned",
        10: "device row pitch smaller than the image row",
    }

    def __init__(self, message: str, scenario: int | None = None) -> None:
        self.scenario = scenario
        if scenario is not None:
            message = f"copy failure scenario {scenario} ({self.SCENARIOS[scenario]}): {message}"
        super().__init__(message)


class DeviceMismatchError(ImageArrayValueError):
    """An object made on one device was used with another."""


class HeadersNotFoundError(ImageArrayError, FileNotFoundError):
    """No device headers where they were looked for (also a ``FileNotFoundError``)."""


class ReleasedResourceError(ImageArrayError, RuntimeError):
    """A resource was used or released after it had already been released."""


class HostMemoryOverlapError(ImageArrayValueError):
    """The range to prepare overlaps a range already prepared, or memory that is
    already page-locked outside imagearray."""


class HostMemoryNotPreparedError(ImageArrayValueError):
    """The range to release is not one that :func:`prepare_for_device_copy` prepared."""


class HostMemoryAlreadyReleasedError(HostMemoryNotPreparedError, ReleasedResourceError):
    """The range to release was prepared, and has already been released."""


class PreparedMemoryLeakWarning(UserWarning):
    """Host memory was still prepared (page-locked) when the interpreter exited."""


class SamplingWarning(UserWarning):
    """A sample() call reads other numbers than a user might expect (e.g. an integer
    image sampled nearest because CUDA does not filter integer textures). Silence it
    by saying what you want (an explicit sampler), or with ``warnings.filterwarnings``."""


class FallbackWarning(UserWarning):
    """An ``ia.ndimage`` call that the texture path cannot do (a spline order above 1,
    a float64 or complex input, ...) was computed by ``cupyx.scipy.ndimage`` instead.
    Silence it with ``warnings.filterwarnings("ignore", category=ia.FallbackWarning)``."""
