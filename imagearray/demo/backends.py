"""The demo's two backends: the GPU (imagearray on CuPy) and the NumPy texture-unit
reference (:mod:`imagearray.testing`), behind one set of methods.

Each step of :mod:`imagearray.demo.steps` calls these methods only, so both backends
do the same work on the same inputs (:mod:`imagearray.demo.pictures`). Results stay
where the backend made them (CuPy arrays or images on the GPU, NumPy arrays on the
reference) until :meth:`host` brings them back; :meth:`synchronize` ends a timed step.

Coordinates are in texture order (x = width, y = height), as ``ImageArray.sample``
and the reference take them; arrays are in NumPy order.
"""

from __future__ import annotations

from typing import Any

import numpy

import imagearray as ia
from imagearray.testing import reference

__all__ = ["Backend", "GPUBackend", "ReferenceBackend", "find_backend"]

#: How the texture unit reads the demo's RGBA8 texels: unsigned normalized, as floats
#: in [0, 1], which it can filter (plain uint8 it cannot).
_UNORM8 = ia.ChannelType.UNORM_INT8


class Backend:
    """What a step may ask of a backend (the GPU's and the reference's methods).

    ``name`` is the first line of the demo's output; ``gpu`` says whether the timing
    table (step 7) can run."""

    gpu = False
    default_size = 256

    def describe(self, size: int) -> str:
        raise NotImplementedError

    def upload(self, picture: numpy.ndarray) -> Any:
        """The RGBA8 picture as a sampled image (unorm_int8: reads as [0, 1])."""
        raise NotImplementedError

    def mipmaps(self, image: Any, levels: int) -> Any:
        """A mipmapped image of ``levels`` levels: level 0 is ``image``, the others
        box-filtered from it."""
        raise NotImplementedError

    def mip_levels(self, pyramid: Any) -> list[numpy.ndarray]:
        """The levels of a :meth:`mipmaps` result as RGBA8 NumPy arrays."""
        raise NotImplementedError

    def mip_level(self, pyramid: Any, level: int) -> Any:
        """One level of a :meth:`mipmaps` result, where the backend keeps it (what
        :meth:`atlas` takes as a layer without a round trip to the host)."""
        raise NotImplementedError

    def sample(self, image: Any, coords: numpy.ndarray, sampler: ia.Sampler) -> Any:
        """``image`` read at ``coords`` (texture order) through ``sampler``: float32
        ``coords.shape[:-1] + (4,)``."""
        raise NotImplementedError

    def cubemap(self, faces: numpy.ndarray) -> Any:
        """A cubemap of six RGBA8 faces ``(6, n, n, 4)`` (+x, -x, +y, -y, +z, -z)."""
        raise NotImplementedError

    def sample_cubemap(self, cube: Any, directions: numpy.ndarray, sampler: ia.Sampler) -> Any:
        """``cube`` read along ``directions`` (x, y, z): float32 ``(..., 4)``."""
        raise NotImplementedError

    def atlas(self, layers: list[Any]) -> Any:
        """A layered image whose layer ``k`` holds ``layers[k]`` (RGBA8, NumPy or what
        :meth:`mip_level` returned), written layer by layer."""
        raise NotImplementedError

    def sample_layered(
        self, atlas: Any, coords: numpy.ndarray, layers: numpy.ndarray, sampler: ia.Sampler
    ) -> Any:
        """``atlas`` read at ``coords`` (texture order) in layer ``layers`` per point."""
        raise NotImplementedError

    def host(self, value: Any) -> numpy.ndarray:
        """A result as a NumPy array."""
        raise NotImplementedError

    def synchronize(self) -> None:
        """Wait for the work enqueued so far (a timed step ends here)."""


class ReferenceBackend(Backend):
    """The NumPy emulation of the texture unit (:mod:`imagearray.testing`): the same
    filter weights and addressing as the hardware, on any machine, slowly.

    ``asked``: chosen although a GPU may be there (``--reference``), which the first
    line then says instead of "no GPU found"."""

    def __init__(self, asked: bool = False) -> None:
        self.asked = asked

    def describe(self, size: int) -> str:
        why = "reference asked for" if self.asked else "no GPU found"
        return (
            f"{why}: running on the NumPy texture-unit reference (imagearray.testing), size {size}"
        )

    def upload(self, picture):
        return numpy.array(picture, numpy.uint8)  # a copy, as an upload is

    def mipmaps(self, image, levels):
        # the exact box filter generate_mipmaps() applies (rounded to nearest)
        return reference.box_pyramid(image, levels, dims=2, channel_type=_UNORM8)

    def mip_levels(self, pyramid):
        return list(pyramid)

    def mip_level(self, pyramid, level):
        return pyramid[level]

    def sample(self, image, coords, sampler):
        return reference.sample(image, coords, sampler, _UNORM8, dims=2)

    def cubemap(self, faces):
        return numpy.array(faces, numpy.uint8)

    def sample_cubemap(self, cube, directions, sampler):
        return reference.sample_cubemap(cube, directions, sampler, _UNORM8)

    def atlas(self, layers):
        return numpy.stack([numpy.asarray(layer, numpy.uint8) for layer in layers])

    def sample_layered(self, atlas, coords, layers, sampler):
        return reference.sample_layered(atlas, coords, layers, sampler, _UNORM8, dims=2)

    def host(self, value):
        return numpy.asarray(value)


class GPUBackend(Backend):
    """imagearray on the current CuPy device and stream: CUDA arrays sampled by the
    texture unit."""

    gpu = True
    default_size = 1024

    def __init__(self) -> None:
        import cupy

        self._cupy = cupy
        self.device = ia.get_device()
        self.device_name = ia.device_info(device=self.device)["name"]

    def describe(self, size: int) -> str:
        return f"GPU: {self.device_name} (device {self.device}), size {size}"

    def upload(self, picture):
        return ia.asimage(picture, channels=4, normalized=True)

    def mipmaps(self, image, levels):
        pyramid = ia.empty(image.shape, numpy.uint8, 4, levels=levels, normalized=True)
        pyramid.mip(0).set(image)  # device to device: the uploaded image is level 0
        pyramid.generate_mipmaps()
        return pyramid

    def mip_levels(self, pyramid):
        return [pyramid.mip(level).get() for level in range(pyramid.levels)]

    def mip_level(self, pyramid, level):
        return pyramid.mip(level)

    def sample(self, image, coords, sampler):
        return image.sample(self._cupy.asarray(coords), sampler)

    def cubemap(self, faces):
        return ia.asimage(faces, channels=4, cubemap=True, normalized=True)

    def sample_cubemap(self, cube, directions, sampler):
        return cube.sample_cubemap(self._cupy.asarray(directions), sampler)

    def atlas(self, layers):
        first = layers[0]
        atlas = ia.empty((len(layers), *first.shape), numpy.uint8, 4, layered=True, normalized=True)
        for k, layer in enumerate(layers):
            atlas.layer(k).set(layer)  # the layer's view: one copy into that layer
        return atlas

    def sample_layered(self, atlas, coords, layers, sampler):
        cp = self._cupy
        return atlas.sample(cp.asarray(coords), sampler, layer=cp.asarray(layers))

    def host(self, value):
        if isinstance(value, ia.ImageArray):
            return value.get()
        return self._cupy.asnumpy(value)

    def synchronize(self):
        self._cupy.cuda.get_current_stream().synchronize()


def find_backend(kind: str = "auto") -> Backend:
    """``"gpu"``, ``"reference"``, or ``"auto"``: the GPU where imagearray can use one
    (:func:`imagearray.is_available`), else the reference.

    Raises
    ------
    CUDAUnavailableError
        ``kind="gpu"`` on a machine without a usable device.
    ImageArrayValueError
        ``kind`` is none of the three.
    """
    if kind not in ("auto", "gpu", "reference"):
        raise ia.ImageArrayValueError(f"backend must be 'auto', 'gpu' or 'reference', not {kind!r}")
    if kind == "reference":
        return ReferenceBackend(asked=True)
    if kind == "auto" and not ia.is_available():
        return ReferenceBackend()
    return GPUBackend()
