"""``Sampler``: the spec's ``bindless_image_sampler`` (plain Python, no CUDA).

A sampler says how a sampled image (a CUDA texture object) turns floating-point
coordinates into a value: how out-of-range coordinates are addressed, whether
coordinates are normalized, how texels are filtered within a level and between mip
levels, the LOD clamps, the anisotropy limit and how cubemap faces meet.

Per-dimension settings are in texture order everywhere in this module: index 0 is x
(width), 1 is y (height) and 2 is z (depth), as in CUDA's ``CUDA_TEXTURE_DESC``.

The ``cuda_*`` properties give the values the Cython layer writes into
``CUDA_TEXTURE_DESC``; they follow what DPC++'s CUDA adapter does for the same
sampler, except where this module documents otherwise.
"""

from __future__ import annotations

import dataclasses
import enum
import math
import numbers
from collections.abc import Sequence
from dataclasses import KW_ONLY, dataclass
from typing import Any, TypeVar

from imagearray._coerce import coerce_enum
from imagearray._cuda import (
    CU_TR_ADDRESS_MODE_BORDER,
    CU_TR_ADDRESS_MODE_CLAMP,
    CU_TR_ADDRESS_MODE_MIRROR,
    CU_TR_ADDRESS_MODE_WRAP,
    CU_TR_FILTER_MODE_LINEAR,
    CU_TR_FILTER_MODE_POINT,
    CU_TRSF_NORMALIZED_COORDINATES,
    CU_TRSF_SEAMLESS_CUBEMAP,
)
from imagearray._enums import ChannelType
from imagearray._errors import ImageArrayTypeError, ImageArrayValueError

__all__ = [
    "AddressingMode",
    "CoordinateNormalizationMode",
    "CubemapFilteringMode",
    "FilteringMode",
    "Sampler",
]

_E = TypeVar("_E", bound=enum.Enum)


class AddressingMode(enum.Enum):
    """``sycl::addressing_mode``: what a coordinate outside the image reads.

    ``NONE`` is the backend's default (spec, "Image sampler struct"); on CUDA that is
    wrap, i.e. ``REPEAT``, which CUDA only supports with normalized coordinates, so
    with unnormalized coordinates ``NONE`` clamps to the edge (see
    :attr:`Sampler.cuda_address_modes`). ``CLAMP`` reads the border colour outside
    the image; ``CLAMP_TO_EDGE`` reads the nearest edge texel.

    Examples
    --------
    >>> AddressingMode("clamp_to_edge")
    <AddressingMode.CLAMP_TO_EDGE: 'clamp_to_edge'>
    """

    NONE = "none"
    REPEAT = "repeat"
    MIRRORED_REPEAT = "mirrored_repeat"
    CLAMP_TO_EDGE = "clamp_to_edge"
    CLAMP = "clamp"


class CoordinateNormalizationMode(enum.Enum):
    """``sycl::coordinate_normalization_mode``: coordinates in [0, 1) or in texels.

    Examples
    --------
    >>> CoordinateNormalizationMode("normalized")
    <CoordinateNormalizationMode.NORMALIZED: 'normalized'>
    """

    NORMALIZED = "normalized"
    UNNORMALIZED = "unnormalized"


class FilteringMode(enum.Enum):
    """``sycl::filtering_mode``: nearest texel or (bi/tri)linear interpolation.

    Examples
    --------
    >>> FilteringMode("linear")
    <FilteringMode.LINEAR: 'linear'>
    """

    NEAREST = "nearest"
    LINEAR = "linear"


class CubemapFilteringMode(enum.Enum):
    """``cubemap_filtering_mode`` of the spec: whether filtering crosses cube faces.

    Examples
    --------
    >>> CubemapFilteringMode("seamless")
    <CubemapFilteringMode.SEAMLESS: 'seamless'>
    """

    DISJOINTED = "disjointed"
    SEAMLESS = "seamless"


#: The driver's answer to a linear filter on an integer read (cuTexObjectCreate, seen
#: on the H200 for 8, 16 and 32-bit integer formats); 32-bit ones have no way around it.
INT32_FILTER_REASON = (
    "CUDA has no normalized read of 32-bit integers and the driver refuses a linear "
    "filter on an integer read (cudaErrorInvalidFilterSetting: linear filtering not "
    "supported for non-float type)"
)

#: CUDA's largest ``maxAnisotropy`` (larger values are silently clamped by CUDA).
MAX_ANISOTROPY = 16.0

_CUDA_ADDRESS_MODE = {
    # NONE is resolved in cuda_address_modes: it depends on the coordinates.
    AddressingMode.REPEAT: CU_TR_ADDRESS_MODE_WRAP,
    AddressingMode.MIRRORED_REPEAT: CU_TR_ADDRESS_MODE_MIRROR,
    AddressingMode.CLAMP_TO_EDGE: CU_TR_ADDRESS_MODE_CLAMP,
    AddressingMode.CLAMP: CU_TR_ADDRESS_MODE_BORDER,
}
_CUDA_FILTER_MODE = {
    FilteringMode.NEAREST: CU_TR_FILTER_MODE_POINT,
    FilteringMode.LINEAR: CU_TR_FILTER_MODE_LINEAR,
}
AddressingArg = AddressingMode | str | Sequence[AddressingMode | str]


def _as_enum(enum_cls: type[_E], name: str, value: Any) -> _E:
    return coerce_enum(enum_cls, name, value, ImageArrayValueError)


def _as_addressing(value: Any) -> tuple[AddressingMode, AddressingMode, AddressingMode]:
    """Return one mode or 1-3 per-dimension modes (x, y, z) as a 3-tuple.

    Missing trailing dimensions take the last mode given, so ``("repeat",)`` and
    ``"repeat"`` mean the same sampler.
    """
    if isinstance(value, (AddressingMode, str)):
        mode = _as_enum(AddressingMode, "addressing", value)
        return (mode, mode, mode)
    if not isinstance(value, Sequence):
        raise ImageArrayTypeError(
            "addressing must be an AddressingMode, its string value, or a sequence of "
            f"1 to 3 of them (x, y, z), got {value!r} of type {type(value).__name__}"
        )
    if not 1 <= len(value) <= 3:
        raise ImageArrayValueError(
            f"addressing must give 1 to 3 modes (x, y, z), got {len(value)}: {value!r}"
        )
    modes = [_as_enum(AddressingMode, f"addressing[{i}]", v) for i, v in enumerate(value)]
    modes += [modes[-1]] * (3 - len(modes))
    return (modes[0], modes[1], modes[2])


def _as_float(name: str, value: Any) -> float:
    """Return ``value`` as a Python float; bool is refused, NaN is refused."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ImageArrayTypeError(
            f"{name} must be a real number, got {value!r} of type {type(value).__name__}"
        )
    try:
        result = float(value)
    except OverflowError:  # e.g. an int or Fraction beyond the float range
        raise ImageArrayValueError(
            f"{name} is out of the floating-point range, got {name}={value!r}"
        ) from None
    if math.isnan(result):
        raise ImageArrayValueError(f"{name} must not be NaN, got {name}={value!r}")
    return result


def _as_border_color(value: Any) -> tuple[float, float, float, float]:
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
        raise ImageArrayTypeError(
            "border_color must be a sequence of 4 floats (r, g, b, a), "
            f"got {value!r} of type {type(value).__name__}"
        )
    if len(value) != 4:
        raise ImageArrayValueError(
            f"border_color must have 4 components (r, g, b, a), got {len(value)}: {value!r}"
        )
    c = [_as_float(f"border_color[{i}]", v) for i, v in enumerate(value)]
    return (c[0], c[1], c[2], c[3])


@dataclass(frozen=True)
class Sampler:
    """How a sampled image turns coordinates into values: the spec's ``bindless_image_sampler``.

    An immutable, hashable value, checked when it is made. A default-constructed
    ``Sampler()`` is the spec's default-constructed sampler: addressing ``NONE``,
    unnormalized coordinates, nearest filtering, nearest mipmap filtering, LOD clamps
    of 0, no anisotropy, disjointed cubemap filtering.

    Per-dimension settings are in texture order: x (width), y (height), z (depth).

    Parameters
    ----------
    addressing : AddressingMode, str or sequence of them, optional
        One mode for every dimension, or 1 to 3 modes for x, y, z (missing trailing
        dimensions repeat the last mode given). Stored as a 3-tuple. Default ``NONE``.
    coordinates : CoordinateNormalizationMode or str, optional
        ``NORMALIZED`` (x in [0, 1) spans the width) or ``UNNORMALIZED`` (x in
        [0, width), the default).
    filtering : FilteringMode or str, optional
        ``NEAREST`` (default) or ``LINEAR`` filtering within a mip level.
    mipmap_filtering : FilteringMode or str, optional
        Filtering between mip levels (default ``NEAREST``); keyword only.
    cubemap_filtering : CubemapFilteringMode or str, optional
        ``DISJOINTED`` (default) or ``SEAMLESS``; keyword only.
    min_mipmap_level_clamp, max_mipmap_level_clamp : float, optional
        Lowest and highest mip level that can be sampled (default 0.0 both; the spec
        says the minimum is 0). Whether the maximum exceeds the image's levels can
        only be checked when the image is made; keyword only.
    max_anisotropy : float, optional
        Anisotropy ratio for anisotropic mipmap sampling, 0 to 16 (CUDA's limit);
        default 0.0; keyword only.
    border_color : sequence of 4 float, optional
        (r, g, b, a) read outside the image with ``CLAMP`` addressing (default
        zeros, as DPC++ uses). An imagearray extension; keyword only.

    Raises
    ------
    ImageArrayTypeError
        If a field has the wrong type (e.g. an int for a mode, a str for a number).
    ImageArrayValueError
        If a string names no mode; ``max_anisotropy``
        is negative or above 16; ``min_mipmap_level_clamp`` is negative or above
        ``max_mipmap_level_clamp``; or a number is NaN.

    Notes
    -----
    Every sampler makes a handle: the spec says a sampled image's sampler "has no
    effect on the returned image data" when it is fetched. Where CUDA cannot sample
    through a sampler (``REPEAT`` or ``MIRRORED_REPEAT`` with unnormalized
    coordinates, which CUDA would silently clamp; linear filtering of 32-bit integer
    channels) the handle is made for fetching, and ``ImageArray.sample`` refuses to
    sample through it (:meth:`sampling_problem` says why).

    See Also
    --------
    Sampler.check_channel_type : whether a channel type can be sampled this way.

    Examples
    --------
    >>> s = Sampler("clamp_to_edge", "normalized", "linear")
    >>> [mode.value for mode in s.addressing]
    ['clamp_to_edge', 'clamp_to_edge', 'clamp_to_edge']
    >>> Sampler(("repeat", "clamp"), coordinates="normalized").cuda_address_modes
    (0, 3, 3)
    >>> Sampler() == Sampler(addressing="none", coordinates="unnormalized")
    True
    """

    addressing: AddressingArg = AddressingMode.NONE
    coordinates: CoordinateNormalizationMode | str = CoordinateNormalizationMode.UNNORMALIZED
    filtering: FilteringMode | str = FilteringMode.NEAREST
    _: KW_ONLY
    mipmap_filtering: FilteringMode | str = FilteringMode.NEAREST
    cubemap_filtering: CubemapFilteringMode | str = CubemapFilteringMode.DISJOINTED
    min_mipmap_level_clamp: float = 0.0
    max_mipmap_level_clamp: float = 0.0
    max_anisotropy: float = 0.0
    border_color: Sequence[float] = (0.0, 0.0, 0.0, 0.0)

    def __post_init__(self) -> None:
        def put(name: str, value: Any) -> None:
            object.__setattr__(self, name, value)

        put("addressing", _as_addressing(self.addressing))
        put("coordinates", _as_enum(CoordinateNormalizationMode, "coordinates", self.coordinates))
        put("filtering", _as_enum(FilteringMode, "filtering", self.filtering))
        put("mipmap_filtering", _as_enum(FilteringMode, "mipmap_filtering", self.mipmap_filtering))
        put(
            "cubemap_filtering",
            _as_enum(CubemapFilteringMode, "cubemap_filtering", self.cubemap_filtering),
        )
        for name in ("min_mipmap_level_clamp", "max_mipmap_level_clamp", "max_anisotropy"):
            put(name, _as_float(name, getattr(self, name)))
        put("border_color", _as_border_color(self.border_color))
        self._check()

    def __hash__(self) -> int:
        # The fields are fixed once __post_init__ ran: hash them once, not on every
        # lookup (handle caches key on samplers; enum hashing is Python-level).
        h = self.__dict__.get("_hash")
        if h is None:
            h = hash(tuple(getattr(self, f.name) for f in dataclasses.fields(self)))
            object.__setattr__(self, "_hash", h)
        return h

    def _check(self) -> None:
        if not 0.0 <= self.max_anisotropy <= MAX_ANISOTROPY:
            raise ImageArrayValueError(
                f"max_anisotropy={self.max_anisotropy!r} is out of range; allowed: "
                f"0 to {MAX_ANISOTROPY:g} (CUDA's limit)"
            )
        if self.min_mipmap_level_clamp < 0.0:
            raise ImageArrayValueError(
                f"min_mipmap_level_clamp={self.min_mipmap_level_clamp!r} is negative; "
                "the lowest mip level is 0"
            )
        if self.min_mipmap_level_clamp > self.max_mipmap_level_clamp:
            raise ImageArrayValueError(
                f"min_mipmap_level_clamp={self.min_mipmap_level_clamp!r} is greater than "
                f"max_mipmap_level_clamp={self.max_mipmap_level_clamp!r}; the minimum must "
                "be <= the maximum"
            )

    @property
    def normalized(self) -> bool:
        """True if coordinates are normalized (x in [0, 1) spans the width).

        Examples
        --------
        >>> Sampler(coordinates="normalized").normalized
        True
        """
        return self.coordinates is CoordinateNormalizationMode.NORMALIZED

    def check_channel_type(self, channel_type: ChannelType | str) -> None:
        """Raise if CUDA cannot filter ``channel_type`` as this sampler asks.

        Float and normalized (``unorm``/``snorm``) channels filter as they are. 8- and
        16-bit integer channels (``signed_int8/16``, ``unsigned_int8/16``) are filtered
        through a normalized read and scaled back to the image's units (see
        :attr:`ChannelType.filter_twin`). 32-bit integer channels have no normalized
        format, and the driver refuses a linear filter on an integer read: linear
        filtering, within a level or between mip levels, is refused for them.

        Parameters
        ----------
        channel_type : ChannelType or str
            The storage type of the image's channels.

        Raises
        ------
        ImageArrayValueError
            If ``filtering`` or ``mipmap_filtering`` is ``LINEAR`` and ``channel_type``
            is ``signed_int32`` or ``unsigned_int32``.

        Examples
        --------
        >>> Sampler(filtering="linear").check_channel_type("unsigned_int16")
        >>> Sampler(filtering="linear").check_channel_type("unsigned_int32")
        Traceback (most recent call last):
        ...
        imagearray._errors.ImageArrayValueError: linear filtering cannot read channel type ...
        """
        ct = _as_enum(ChannelType, "channel_type", channel_type)
        if ct.reads_as_float or ct.filter_twin is not None:
            return
        for what, mode in (("filtering", self.filtering), ("mipmap", self.mipmap_filtering)):
            if mode is FilteringMode.LINEAR:
                kind = "linear filtering" if what == "filtering" else "linear mipmap filtering"
                raise ImageArrayValueError(
                    f"{kind} cannot read channel type {ct.value!r}: {INT32_FILTER_REASON}; "
                    "use nearest filtering, or convert the image to float32 (or to 8/16-bit "
                    "integers, which imagearray filters through a normalized read)"
                )

    @property
    def filters(self) -> bool:
        """True if the sampler filters linearly within a level or between levels."""
        return FilteringMode.LINEAR in (self.filtering, self.mipmap_filtering)

    def sampling_problem(self, channel_type: ChannelType | str) -> str | None:
        """Why CUDA cannot sample an image of ``channel_type`` through this sampler, or
        None if it can. A handle is made either way (fetches ignore the sampler).

        Examples
        --------
        >>> Sampler("repeat").sampling_problem("fp32").split(":")[0]
        "addressing 'repeat' (dimension x) needs normalized coordinates"
        >>> Sampler("repeat", "normalized").sampling_problem("fp32") is None
        True
        """
        if not self.normalized:
            for axis, mode in zip("xyz", self.addressing, strict=True):
                if mode in (AddressingMode.REPEAT, AddressingMode.MIRRORED_REPEAT):
                    return (
                        f"addressing {mode.value!r} (dimension {axis}) needs normalized "
                        "coordinates: CUDA only wraps or mirrors normalized coordinates and "
                        "would silently clamp unnormalized ones; with coordinates="
                        "'unnormalized' the modes that sample are 'none', 'clamp_to_edge' "
                        "and 'clamp' (a handle with this sampler can still be fetched)"
                    )
        try:
            self.check_channel_type(channel_type)
        except ImageArrayValueError as e:
            return str(e)
        return None

    @property
    def cuda_address_modes(self) -> tuple[int, int, int]:
        """``CUDA_TEXTURE_DESC::addressMode`` for x, y, z (``CUaddress_mode`` values).

        ``REPEAT`` -> ``WRAP`` (0), ``MIRRORED_REPEAT`` -> ``MIRROR`` (2),
        ``CLAMP_TO_EDGE`` -> ``CLAMP`` (1), ``CLAMP`` -> ``BORDER`` (3), as DPC++ maps
        them. ``NONE`` is CUDA's default, ``WRAP`` (as the spec says and DPC++ does,
        by leaving the field zero) with normalized coordinates; with unnormalized
        coordinates, where CUDA supports no wrapping, it is ``CLAMP``, which is what
        the hardware does with ``WRAP`` there, stated rather than left to chance.

        Examples
        --------
        >>> Sampler("clamp").cuda_address_modes
        (3, 3, 3)
        >>> Sampler().cuda_address_modes, Sampler(coordinates="normalized").cuda_address_modes
        ((1, 1, 1), (0, 0, 0))
        """
        if not self.normalized:
            # No wrapping of unnormalized coordinates on CUDA: every mode but border
            # clamps (what the hardware does with WRAP/MIRROR there; such a sampler is
            # for fetching, see sampling_problem).
            return tuple(
                CU_TR_ADDRESS_MODE_BORDER if m is AddressingMode.CLAMP else CU_TR_ADDRESS_MODE_CLAMP
                for m in self.addressing
            )
        modes = [_CUDA_ADDRESS_MODE.get(m, CU_TR_ADDRESS_MODE_WRAP) for m in self.addressing]
        return (modes[0], modes[1], modes[2])

    @property
    def cuda_filter_mode(self) -> int:
        """``CUDA_TEXTURE_DESC::filterMode``: ``POINT`` (0) or ``LINEAR`` (1).

        Examples
        --------
        >>> Sampler(filtering="linear").cuda_filter_mode
        1
        """
        return _CUDA_FILTER_MODE[self.filtering]

    @property
    def cuda_mipmap_filter_mode(self) -> int:
        """``CUDA_TEXTURE_DESC::mipmapFilterMode``: ``POINT`` (0) or ``LINEAR`` (1).

        Examples
        --------
        >>> Sampler(mipmap_filtering="linear").cuda_mipmap_filter_mode
        1
        """
        return _CUDA_FILTER_MODE[self.mipmap_filtering]

    @property
    def cuda_max_anisotropy(self) -> int:
        """``CUDA_TEXTURE_DESC::maxAnisotropy``: ``max_anisotropy`` truncated, as DPC++ does.

        Examples
        --------
        >>> Sampler(max_anisotropy=4.5).cuda_max_anisotropy
        4
        """
        return int(self.max_anisotropy)

    @property
    def cuda_flags(self) -> int:
        """``CUDA_TEXTURE_DESC::flags`` the sampler decides.

        ``CU_TRSF_NORMALIZED_COORDINATES`` (0x02) for normalized coordinates and
        ``CU_TRSF_SEAMLESS_CUBEMAP`` (0x40) for seamless cubemap filtering.
        ``CU_TRSF_READ_AS_INTEGER`` depends on the channel type, not the sampler, and
        is left to the caller.

        Examples
        --------
        >>> hex(Sampler(coordinates="normalized", cubemap_filtering="seamless").cuda_flags)
        '0x42'
        """
        flags = CU_TRSF_NORMALIZED_COORDINATES if self.normalized else 0
        if self.cubemap_filtering is CubemapFilteringMode.SEAMLESS:
            flags |= CU_TRSF_SEAMLESS_CUBEMAP
        return flags
