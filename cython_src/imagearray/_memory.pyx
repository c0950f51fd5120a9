# cython: language_level=3
"""Image memory owned by Cython classes: CUDA arrays and mipmapped arrays.

Each class owns exactly one CUDA resource and frees it exactly once (explicit
``free()``, or ``__dealloc__`` for the garbage-collected case). A level view of a
mipmapped array keeps its parent alive and never frees the level (CUDA frees it
with the parent). Using a freed resource raises :class:`ReleasedResourceError`.
Pitched linear memory comes from CuPy's allocator (see ``imagearray.memory.pitched``), so
it is pooled and owned like any CuPy array.
"""

from cuda.bindings cimport cydriver

from imagearray._driver cimport check, current_context, ensure_context, pop_context, push_context

import threading
import weakref

from imagearray._errors import ImageArrayValueError, ReleasedResourceError


cdef list _live(object dependents):
    # A snapshot of the WeakSet's references (one C-level set copy): handles made on
    # other threads meanwhile cannot change what is being iterated.
    cdef list out = []
    for ref in dependents.data.copy():
        h = ref()
        if h is not None and h.alive:
            out.append(h)
    return out


cdef int _refuse_if_handles_alive(list handles) except -1:
    """Texture/surface objects made from the memory would read freed memory: every
    way of freeing (``free()`` here, ``free_image_mem``, ``ImageMem.free``) refuses."""
    if handles:
        raise ImageArrayValueError(
            f"{len(handles)} image handle(s) created from this memory are still alive: "
            "destroy them (handle.destroy()) before freeing the memory"
        )
    return 0


cdef class ArrayHandle:
    """An ``image_mem_handle`` over a ``CUarray``: a whole allocation or one mip level.

    Attributes
    ----------
    device : int
        Device ordinal the array lives on.
    desc : ImageDescriptor or None
        The descriptor it was allocated with (None when not known).
    parent : MipmappedArrayHandle or None
        For a mip level, the mipmapped array it belongs to (kept alive).
    level : int
        The mip level (0 for a plain array).
    flags : int
        The ``CUDA_ARRAY3D_*`` flags ``alloc_array`` created the array with; 0 where
        imagearray did not create it (mip levels, mapped external memory), whose
        flags ``query_descriptor()`` asks the driver for.
    """

    cdef cydriver.CUarray array
    # The context the array was created in: __dealloc__ destroys it there, whatever
    # (if any) context is current on the collecting thread.
    cdef cydriver.CUcontext ctx
    cdef bint owns
    cdef bint released
    cdef readonly int device
    cdef readonly object desc
    cdef readonly MipmappedArrayHandle parent
    cdef readonly int level
    cdef readonly unsigned int flags
    # For memory someone else owns (a mapped external image): the object whose
    # .alive / .free() this handle follows, kept alive as long as the handle.
    cdef readonly object owner
    # The texture and surface objects made from this memory (held weakly): freeing
    # is refused while one of them is alive.
    cdef readonly object dependents
    # Guards the memory's life against handles being made from it on other threads:
    # free() holds it, and so does whoever checks ``alive``, creates a handle and
    # adds it to ``dependents`` (imagearray.handles). A mip level shares its
    # mipmap's lock. Reentrant: ImageArray.free holds it around free().
    cdef readonly object lock
    cdef object __weakref__

    def __cinit__(self):
        self.dependents = weakref.WeakSet()
        self.lock = threading.RLock()
        self.array = NULL
        self.ctx = NULL
        self.owns = False
        self.released = False
        self.parent = None
        self.level = 0
        self.flags = 0
        self.owner = None

    def __dealloc__(self):
        cdef bint pushed
        if self.owns and not self.released and self.array != NULL:
            # Errors cannot propagate from __dealloc__; the context may already be
            # gone at interpreter exit, in which case CUDA has freed it already.
            pushed = push_context(self.ctx)
            cydriver.cuArrayDestroy(self.array)
            if pushed:
                pop_context()
        self.array = NULL

    @property
    def alive(self):
        """False once this memory (or, for a level, its mipmapped parent) was freed."""
        if self.released:
            return False
        if self.owner is not None and not self.owner.alive:
            return False
        return self.parent is None or self.parent.alive

    cpdef size_t raw(self) except? 0:
        """The ``CUarray`` as an int; raises if freed."""
        if not self.alive:
            raise ReleasedResourceError("image memory was already freed")
        return <size_t>self.array

    @property
    def raw_handle(self):
        return self.raw()

    def free(self):
        """Free the array now. Freeing twice, or freeing a mip level (free its
        mipmapped array instead), raises :class:`ReleasedResourceError`."""
        if self.parent is not None:
            raise ReleasedResourceError(
                "a mip level cannot be freed on its own: free the mipmapped image memory"
            )
        with self.lock:
            if not self.alive:
                raise ReleasedResourceError("image memory was already freed")
            _refuse_if_handles_alive(_live(self.dependents))
            self.released = True
            if self.owner is not None:
                self.array = NULL
                self.owner.free()
                return
            if self.owns and self.array != NULL:
                ensure_context(self.device)
                check(cydriver.cuArrayDestroy(self.array), "cuArrayDestroy")
            self.array = NULL

    def query_descriptor(self):
        """``cuArray3DGetDescriptor``: ``(width, height, depth, format, channels, flags)``
        as the driver reports them."""
        cdef cydriver.CUDA_ARRAY3D_DESCRIPTOR d
        cdef cydriver.CUarray arr = <cydriver.CUarray>self.raw()
        ensure_context(self.device)
        check(cydriver.cuArray3DGetDescriptor(&d, arr), "cuArray3DGetDescriptor")
        return (d.Width, d.Height, d.Depth, <int>d.Format, d.NumChannels, d.Flags)

    def __repr__(self):
        state = "alive" if self.alive else "freed"
        lvl = f" level {self.level}" if self.parent is not None else ""
        return f"<ArrayHandle{lvl} device {self.device} {state} {self.desc}>"


cdef class MipmappedArrayHandle:
    """An ``image_mem_handle`` over a ``CUmipmappedArray``."""

    cdef cydriver.CUmipmappedArray marray
    cdef cydriver.CUcontext ctx
    cdef bint owns
    cdef bint released
    cdef readonly int device
    cdef readonly object desc
    cdef readonly unsigned int num_levels
    cdef readonly object owner
    cdef readonly object dependents  # as ArrayHandle.dependents
    cdef readonly object lock  # as ArrayHandle.lock; shared with the levels
    cdef dict _levels
    cdef object __weakref__

    def __cinit__(self):
        self.dependents = weakref.WeakSet()
        self.lock = threading.RLock()
        self.marray = NULL
        self.ctx = NULL
        self.owns = False
        self.released = False
        self.owner = None
        self._levels = {}

    def __dealloc__(self):
        cdef bint pushed
        if self.owns and not self.released and self.marray != NULL:
            pushed = push_context(self.ctx)
            cydriver.cuMipmappedArrayDestroy(self.marray)
            if pushed:
                pop_context()
        self.marray = NULL

    @property
    def alive(self):
        if self.released:
            return False
        return self.owner is None or self.owner.alive

    cpdef size_t raw(self) except? 0:
        if not self.alive:
            raise ReleasedResourceError("mipmapped image memory was already freed")
        return <size_t>self.marray

    @property
    def raw_handle(self):
        return self.raw()

    def get_level(self, unsigned int level):
        """The level's ``ArrayHandle`` (the same object while one is alive; it keeps
        this mipmap alive). The cache holds levels weakly: a strong reference back
        would make a cycle that frees the mipmap only when the cyclic GC runs."""
        cdef cydriver.CUarray arr = NULL
        cdef ArrayHandle h
        cdef cydriver.CUmipmappedArray m = <cydriver.CUmipmappedArray>self.raw()
        if level >= self.num_levels:
            raise ImageArrayValueError(
                f"mip level {level} out of range: this image has {self.num_levels} levels "
                f"(0..{self.num_levels - 1})"
            )
        ref = self._levels.get(level)
        if ref is not None:
            cached = ref()
            if cached is not None:
                return cached
        ensure_context(self.device)
        check(cydriver.cuMipmappedArrayGetLevel(&arr, m, level),
              f"cuMipmappedArrayGetLevel(level {level})")
        h = ArrayHandle.__new__(ArrayHandle)
        h.array = arr
        h.owns = False
        h.device = self.device
        h.parent = self
        h.level = level
        h.lock = self.lock  # a handle of a level is made under the mipmap's lock
        h.desc = self.desc.mip_level_desc(level) if self.desc is not None else None
        self._levels[level] = weakref.ref(h)
        return h

    def cached_levels(self):
        """The level handles handed out and still alive (no driver call)."""
        levels = [ref() for ref in self._levels.values()]
        return [h for h in levels if h is not None]

    def free(self):
        with self.lock:
            if not self.alive:
                raise ReleasedResourceError("mipmapped image memory was already freed")
            # Handles of a level keep its ArrayHandle alive, so the levels handed out
            # and still alive are all that can have any (no driver call needed).
            handles = _live(self.dependents)
            for level in self.cached_levels():
                handles += _live((<ArrayHandle>level).dependents)
            _refuse_if_handles_alive(handles)
            self.released = True
            self._levels.clear()
            if self.owner is not None:
                self.marray = NULL
                self.owner.free()
                return
            if self.owns and self.marray != NULL:
                ensure_context(self.device)
                check(cydriver.cuMipmappedArrayDestroy(self.marray), "cuMipmappedArrayDestroy")
            self.marray = NULL

    def __repr__(self):
        state = "alive" if self.alive else "freed"
        return f"<MipmappedArrayHandle device {self.device} {state} {self.desc}>"


cdef void _fill_desc(cydriver.CUDA_ARRAY3D_DESCRIPTOR* d, size_t width, size_t height,
                     size_t depth, int fmt, unsigned int channels, unsigned int flags):
    d.Width = width
    d.Height = height
    d.Depth = depth
    d.Format = <cydriver.CUarray_format>fmt
    d.NumChannels = channels
    d.Flags = flags


def alloc_array(int device, size_t width, size_t height, size_t depth, int fmt,
                unsigned int channels, unsigned int flags, desc=None):
    """``cuArray3DCreate`` on ``device``; CUDA extents (height/depth 0 = unused,
    depth = layers for layered arrays)."""
    cdef cydriver.CUDA_ARRAY3D_DESCRIPTOR d
    cdef ArrayHandle h = ArrayHandle.__new__(ArrayHandle)
    _fill_desc(&d, width, height, depth, fmt, channels, flags)
    ensure_context(device)
    h.ctx = current_context()
    check(cydriver.cuArray3DCreate(&h.array, &d),
          f"cuArray3DCreate({width}x{height}x{depth}, {channels} channel(s), flags {flags:#x})")
    h.owns = True
    h.device = device
    h.desc = desc
    h.flags = flags
    return h


def alloc_mipmapped_array(int device, size_t width, size_t height, size_t depth, int fmt,
                          unsigned int channels, unsigned int flags, unsigned int levels,
                          desc=None):
    """``cuMipmappedArrayCreate`` on ``device``."""
    cdef cydriver.CUDA_ARRAY3D_DESCRIPTOR d
    cdef MipmappedArrayHandle h = MipmappedArrayHandle.__new__(MipmappedArrayHandle)
    _fill_desc(&d, width, height, depth, fmt, channels, flags)
    ensure_context(device)
    h.ctx = current_context()
    check(cydriver.cuMipmappedArrayCreate(&h.marray, &d, levels),
          f"cuMipmappedArrayCreate({width}x{height}x{depth}, {levels} levels, flags {flags:#x})")
    h.owns = True
    h.device = device
    h.desc = desc
    h.num_levels = levels
    return h


def wrap_array(int device, size_t raw_cuarray, desc, owner):
    """A non-owning ``ArrayHandle`` over a ``CUarray`` that ``owner`` (with ``.alive``
    and a ``.free()`` that frees once) owns, e.g. a mapped external image; the handle
    keeps ``owner`` alive and its ``free()`` frees the owner."""
    cdef ArrayHandle h = ArrayHandle.__new__(ArrayHandle)
    h.array = <cydriver.CUarray>raw_cuarray
    h.owns = False
    h.device = device
    h.desc = desc
    h.owner = owner
    return h


def wrap_mipmapped_array(int device, size_t raw_cumipmappedarray, desc, unsigned int num_levels,
                         owner):
    """A non-owning ``MipmappedArrayHandle`` over memory ``owner`` owns (see
    :func:`wrap_array`); its levels work as for allocated mipmaps."""
    cdef MipmappedArrayHandle h = MipmappedArrayHandle.__new__(MipmappedArrayHandle)
    h.marray = <cydriver.CUmipmappedArray>raw_cumipmappedarray
    h.owns = False
    h.device = device
    h.desc = desc
    h.num_levels = num_levels
    h.owner = owner
    return h
