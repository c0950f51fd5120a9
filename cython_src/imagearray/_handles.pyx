# cython: language_level=3
"""Texture objects (sampled image handles) and surface objects (unsampled ones).

Each class owns one CUDA object, destroys it exactly once (``destroy()`` or
``__dealloc__``) and keeps a reference to the memory it reads, so the memory
outlives the handle. Arguments arrive validated from ``imagearray.handles.rules``.
"""

from cpython.ref cimport PyObject
from cpython.set cimport PySet_Add
from cpython.weakref cimport PyWeakref_GetObject, PyWeakref_NewRef
from libc.string cimport memset

from cuda.bindings cimport cydriver

from imagearray._driver cimport (
    check, current_context, enter_context, leave_context, pop_context, push_context,
)

import numpy

from imagearray._errors import ReleasedResourceError

_uint64_new = numpy.uint64.__new__


cdef extern from "Python.h":
    object PyType_GenericAlloc(type t, Py_ssize_t nitems)
    object PyLong_FromVoidPtr(void* p)


# A numpy.uint64 is PyObject_HEAD then the value (numpy's PyULongLongScalarObject), and
# numpy's own constructor of a subclass is tp_alloc then a store of the value: where
# that layout is seen here (checked on a probe value), handles are made that way,
# without the argument parsing of numpy.uint64.__new__.
cdef Py_ssize_t _VALUE_AT = sizeof(PyObject)


cdef bint _layout_seen():
    probe = numpy.uint64(0x0123456789ABCDEF)
    if type(probe).__basicsize__ != _VALUE_AT + 8:
        return False
    return (<unsigned long long*>((<char*><PyObject*>probe) + _VALUE_AT))[0] == 0x0123456789ABCDEF


cdef bint _FAST_UINT64 = _layout_seen()


cdef object _uint64_of(type cls, unsigned long long value):
    """``numpy.uint64.__new__(cls, value)`` for a subclass ``cls`` defined in Python."""
    if not _FAST_UINT64:
        return _uint64_new(cls, value)
    obj = PyType_GenericAlloc(cls, 0)
    (<unsigned long long*>((<char*><PyObject*>obj) + _VALUE_AT))[0] = value
    return obj


cdef type _uint64_class(type cls):
    if not issubclass(cls, numpy.uint64):
        raise TypeError(f"{cls.__name__} is not a numpy.uint64 subclass")
    return cls


def uint64_of(type cls, unsigned long long value):
    """A ``cls`` (a numpy.uint64 subclass) of ``value``, made as HandleRecipe does
    (for tests)."""
    return _uint64_of(_uint64_class(cls), value)

# Resource kinds, as the plain-Python layer passes them.
cdef enum:
    RES_ARRAY = 0
    RES_MIPMAP = 1
    RES_LINEAR = 2
    RES_PITCH2D = 3

ARRAY = RES_ARRAY
MIPMAP = RES_MIPMAP
LINEAR = RES_LINEAR
PITCH2D = RES_PITCH2D


cdef class _CudaObject:
    """A texture or surface object; ``memory`` is kept alive as long as this object."""

    cdef unsigned long long handle
    # The context it was created in, where __dealloc__ destroys it.
    cdef cydriver.CUcontext ctx
    cdef bint destroyed
    cdef bint is_surface
    cdef readonly int device
    cdef readonly object memory
    # Where register() put this object: the owner's WeakSet's set and the weak
    # reference in it, taken out when the object is destroyed or collected.
    cdef set registry
    cdef object entry
    cdef object __weakref__

    def __cinit__(self):
        self.handle = 0
        self.ctx = NULL
        self.destroyed = True

    cdef void _unregister(self):
        if self.registry is not None:
            self.registry.discard(self.entry)
            self.registry = None
            self.entry = None

    cdef cydriver.CUresult _destroy(self) noexcept:
        if self.is_surface:
            return cydriver.cuSurfObjectDestroy(<cydriver.CUsurfObject>self.handle)
        return cydriver.cuTexObjectDestroy(<cydriver.CUtexObject>self.handle)

    def __dealloc__(self):
        cdef bint pushed
        if not self.destroyed:
            pushed = push_context(self.ctx)
            self._destroy()
            if pushed:
                pop_context()
            self.destroyed = True
        self._unregister()

    cdef str _name(self):
        return "unsampled" if self.is_surface else "sampled"

    @property
    def alive(self):
        return not self.destroyed

    @property
    def raw_handle(self):
        if self.destroyed:
            raise ReleasedResourceError(f"the {self._name()} image handle was already destroyed")
        return self.handle

    def destroy(self):
        if self.destroyed:
            raise ReleasedResourceError(f"the {self._name()} image handle was already destroyed")
        self.destroyed = True
        cdef int pushed = enter_context(self.device)  # CuPy's current device unchanged
        try:
            check(self._destroy(), "cuSurfObjectDestroy" if self.is_surface else "cuTexObjectDestroy")
        finally:
            leave_context(pushed)
        self._unregister()
        self.memory = None


cdef class TextureObject(_CudaObject):
    """A ``CUtexObject``."""


cdef class SurfaceObject(_CudaObject):
    """A ``CUsurfObject``."""


cdef void _fill_resource(cydriver.CUDA_RESOURCE_DESC* r, int kind, size_t handle, int fmt,
                         unsigned int channels, size_t width, size_t height, size_t pitch,
                         size_t size_bytes):
    memset(r, 0, sizeof(cydriver.CUDA_RESOURCE_DESC))
    if kind == RES_ARRAY:
        r.resType = cydriver.CU_RESOURCE_TYPE_ARRAY
        r.res.array.hArray = <cydriver.CUarray>handle
    elif kind == RES_MIPMAP:
        r.resType = cydriver.CU_RESOURCE_TYPE_MIPMAPPED_ARRAY
        r.res.mipmap.hMipmappedArray = <cydriver.CUmipmappedArray>handle
    elif kind == RES_LINEAR:
        r.resType = cydriver.CU_RESOURCE_TYPE_LINEAR
        r.res.linear.devPtr = <cydriver.CUdeviceptr>handle
        r.res.linear.format = <cydriver.CUarray_format>fmt
        r.res.linear.numChannels = channels
        r.res.linear.sizeInBytes = size_bytes
    else:
        r.resType = cydriver.CU_RESOURCE_TYPE_PITCH2D
        r.res.pitch2D.devPtr = <cydriver.CUdeviceptr>handle
        r.res.pitch2D.format = <cydriver.CUarray_format>fmt
        r.res.pitch2D.numChannels = channels
        r.res.pitch2D.width = width
        r.res.pitch2D.height = height
        r.res.pitch2D.pitchInBytes = pitch


cdef int _fill_texture(cydriver.CUDA_TEXTURE_DESC* t, tuple address_modes, int filter_mode,
                       int mipmap_filter_mode, unsigned int flags,
                       unsigned int max_anisotropy, float min_level_clamp,
                       float max_level_clamp, tuple border_color) except -1:
    cdef int i
    memset(t, 0, sizeof(cydriver.CUDA_TEXTURE_DESC))
    for i in range(3):
        t.addressMode[i] = <cydriver.CUaddress_mode><int>address_modes[i]
    t.filterMode = <cydriver.CUfilter_mode>filter_mode
    t.flags = flags
    t.maxAnisotropy = max_anisotropy
    t.mipmapFilterMode = <cydriver.CUfilter_mode>mipmap_filter_mode
    t.mipmapLevelBias = 0
    t.minMipmapLevelClamp = min_level_clamp
    t.maxMipmapLevelClamp = max_level_clamp
    for i in range(4):
        t.borderColor[i] = <float>border_color[i]
    return 0


cdef TextureObject _create_texture(int device, cydriver.CUDA_RESOURCE_DESC* r,
                                   cydriver.CUDA_TEXTURE_DESC* t, memory):
    cdef TextureObject obj = TextureObject.__new__(TextureObject)
    cdef cydriver.CUtexObject tex = 0
    cdef int pushed = enter_context(device)  # CuPy's current device unchanged
    try:
        obj.ctx = current_context()
        check(cydriver.cuTexObjectCreate(&tex, r, t, NULL), "cuTexObjectCreate")
    finally:
        leave_context(pushed)
    obj.handle = tex
    obj.is_surface = False
    obj.destroyed = False
    obj.device = device
    obj.memory = memory
    return obj


def create_texture(int device, int kind, size_t handle, int fmt, unsigned int channels,
                   size_t width, size_t height, size_t pitch, size_t size_bytes,
                   tuple address_modes, int filter_mode, int mipmap_filter_mode,
                   unsigned int flags, unsigned int max_anisotropy, float min_level_clamp,
                   float max_level_clamp, tuple border_color, memory):
    """``cuTexObjectCreate`` over an array, mipmapped array, linear or pitched memory."""
    cdef cydriver.CUDA_RESOURCE_DESC r
    cdef cydriver.CUDA_TEXTURE_DESC t
    _fill_resource(&r, kind, handle, fmt, channels, width, height, pitch, size_bytes)
    _fill_texture(&t, address_modes, filter_mode, mipmap_filter_mode, flags, max_anisotropy,
                  min_level_clamp, max_level_clamp, border_color)
    return _create_texture(device, &r, &t, memory)


cdef class TextureRecipe:
    """The resource and texture descriptors of ``create_texture(device, *args,
    memory)``, filled once from ``args`` (the same arguments, without the device and
    the memory): ``create(device, memory)`` makes such a texture object with them,
    for a caller that makes many of one kind (create_image's recipes)."""

    cdef cydriver.CUDA_RESOURCE_DESC r
    cdef cydriver.CUDA_TEXTURE_DESC t

    def __init__(self, int kind, size_t handle, int fmt, unsigned int channels,
                 size_t width, size_t height, size_t pitch, size_t size_bytes,
                 tuple address_modes, int filter_mode, int mipmap_filter_mode,
                 unsigned int flags, unsigned int max_anisotropy, float min_level_clamp,
                 float max_level_clamp, tuple border_color):
        _fill_resource(&self.r, kind, handle, fmt, channels, width, height, pitch, size_bytes)
        _fill_texture(&self.t, address_modes, filter_mode, mipmap_filter_mode, flags,
                      max_anisotropy, min_level_clamp, max_level_clamp, border_color)

    def create(self, int device, memory):
        """``cuTexObjectCreate`` with the descriptors filled at construction."""
        return _create_texture(device, &self.r, &self.t, memory)

    def fields(self):
        """What the descriptors hold, as create_texture's arguments (for tests)."""
        cdef int kind
        cdef size_t handle = 0
        cdef int fmt = 0
        cdef unsigned int channels = 0
        cdef size_t width = 0, height = 0, pitch = 0, size_bytes = 0
        if self.r.resType == cydriver.CU_RESOURCE_TYPE_ARRAY:
            kind, handle = RES_ARRAY, <size_t>self.r.res.array.hArray
        elif self.r.resType == cydriver.CU_RESOURCE_TYPE_MIPMAPPED_ARRAY:
            kind, handle = RES_MIPMAP, <size_t>self.r.res.mipmap.hMipmappedArray
        elif self.r.resType == cydriver.CU_RESOURCE_TYPE_LINEAR:
            kind, handle = RES_LINEAR, <size_t>self.r.res.linear.devPtr
            fmt, channels = <int>self.r.res.linear.format, self.r.res.linear.numChannels
            size_bytes = self.r.res.linear.sizeInBytes
        else:
            kind, handle = RES_PITCH2D, <size_t>self.r.res.pitch2D.devPtr
            fmt, channels = <int>self.r.res.pitch2D.format, self.r.res.pitch2D.numChannels
            width, height = self.r.res.pitch2D.width, self.r.res.pitch2D.height
            pitch = self.r.res.pitch2D.pitchInBytes
        return (
            kind, handle, fmt, channels, width, height, pitch, size_bytes,
            tuple(<int>self.t.addressMode[i] for i in range(3)),
            <int>self.t.filterMode, <int>self.t.mipmapFilterMode, self.t.flags,
            self.t.maxAnisotropy, self.t.minMipmapLevelClamp, self.t.maxMipmapLevelClamp,
            tuple(self.t.borderColor[i] for i in range(4)),
        )


cdef SurfaceObject _create_surface(int device, size_t cuarray, memory):
    cdef cydriver.CUDA_RESOURCE_DESC r
    cdef SurfaceObject obj = SurfaceObject.__new__(SurfaceObject)
    cdef cydriver.CUsurfObject surf = 0
    _fill_resource(&r, RES_ARRAY, cuarray, 0, 0, 0, 0, 0, 0)
    cdef int pushed = enter_context(device)  # CuPy's current device unchanged
    try:
        obj.ctx = current_context()
        check(cydriver.cuSurfObjectCreate(&surf, &r), "cuSurfObjectCreate")
    finally:
        leave_context(pushed)
    obj.handle = surf
    obj.is_surface = True
    obj.destroyed = False
    obj.device = device
    obj.memory = memory
    return obj


def create_surface(int device, size_t cuarray, memory):
    """``cuSurfObjectCreate`` over a CUDA array (made with SURFACE_LDST)."""
    return _create_surface(device, cuarray, memory)


cdef class SurfaceRecipe:
    """``create(device, memory)``: ``create_surface(device, cuarray, memory)``."""

    cdef size_t cuarray

    def __init__(self, size_t cuarray):
        self.cuarray = cuarray

    def create(self, int device, memory):
        return _create_surface(device, self.cuarray, memory)


def register(obj, dependents):
    """Add ``obj`` to ``dependents`` (the owner's weakref.WeakSet of the handles made
    from it). A TextureObject or SurfaceObject goes in by a weak reference without a
    callback and takes it out itself when destroyed or collected (WeakSet.add's
    callback is a Python function run at every collection); anything else by
    ``dependents.add``. The owner's _live reads the set's references either way."""
    _register(obj, dependents, dependents.data)


cdef inline int _register(obj, dependents, set data) except -1:
    # ``data``: dependents.data. WeakSet.add(x) is data.add(ref(x, _remove)) after
    # committing the removals an iteration in progress deferred (done at its next
    # add, or when it ends).
    cdef _CudaObject cuobj
    if not isinstance(obj, _CudaObject):
        dependents.add(obj)
        return 0
    cuobj = <_CudaObject>obj
    entry = PyWeakref_NewRef(cuobj, None)
    PySet_Add(data, entry)
    cuobj.registry = data
    cuobj.entry = entry
    return 0


cdef inline object _referent(object ref):
    # what a weak reference points to (None once dead); None stands for "no object"
    if ref is None:
        return None
    return <object>PyWeakref_GetObject(ref)


cdef object _weak(object obj):
    return None if obj is None else PyWeakref_NewRef(obj, None)


cdef class HandleRecipe:
    """What ``create_image(memory, desc, sampler)`` resolved and checked for image
    memory (no pitch), to make another handle from the same three objects without
    resolving and checking them again (imagearray.handles.create keeps these).

    Descriptors and samplers are immutable and what memory resolves to is fixed for
    the object's life, so only liveness is looked at again: every object is held
    weakly (a recipe keeps nothing alive; a dead one is a miss) and ``alive_of``
    (the ImageArray's memory handle, else the memory handle) and the owner must still
    be alive. ``create`` is a TextureRecipe or SurfaceRecipe (called here with no
    Python in between) or another object with their ``create(device, owner)``. The
    handle is made as ``cls`` (a numpy.uint64 subclass with the slots ``_obj``,
    ``_desc``, ``_sampler``, ``_filtered_integer``), registered in the owner's
    ``dependents`` (a weakref.WeakSet) under the owner's lock, as the general path
    does."""

    cdef readonly object memory, desc, sampler, alive_of, owner, handle_desc, create
    cdef int device
    cdef type cls
    cdef object acquire, release, dependents
    cdef set data
    cdef bint filtered_integer

    def __init__(self, memory, desc, sampler, alive_of, owner, handle_desc, int device,
                 create, cls, bint filtered_integer):
        # TypeError for an object without weak references: the caller keeps no recipe
        self.memory = PyWeakref_NewRef(memory, None)
        self.desc = _weak(desc)
        self.sampler = _weak(sampler)
        self.alive_of = PyWeakref_NewRef(alive_of, None)
        self.owner = PyWeakref_NewRef(owner, None)
        self.handle_desc = PyWeakref_NewRef(handle_desc, None)
        self.device = device
        self.create = create
        self.cls = _uint64_class(cls)
        self.filtered_integer = filtered_integer
        self.acquire, self.release = owner.lock.acquire, owner.lock.release
        self.dependents = owner.dependents
        self.data = self.dependents.data  # see register()

    cpdef make(self, memory, desc, sampler):
        """The handle, or None where an object differs or died (the general path
        then runs, and raises its errors)."""
        if (_referent(self.memory) is not memory or _referent(self.desc) is not desc
                or _referent(self.sampler) is not sampler):
            return None
        alive_of = _referent(self.alive_of)
        owner = _referent(self.owner)
        handle_desc = _referent(self.handle_desc)
        if alive_of is None or owner is None or handle_desc is None:
            return None
        self.acquire()  # as in create_image: never a handle of freed memory
        try:
            if not alive_of.alive or not owner.alive:
                return None
            if type(self.create) is TextureRecipe:
                obj = _create_texture(self.device, &(<TextureRecipe>self.create).r,
                                      &(<TextureRecipe>self.create).t, owner)
            elif type(self.create) is SurfaceRecipe:
                obj = _create_surface(self.device, (<SurfaceRecipe>self.create).cuarray, owner)
            else:
                obj = self.create.create(self.device, owner)
            _register(obj, self.dependents, self.data)
        finally:
            self.release()
        if isinstance(obj, _CudaObject):
            h = _uint64_of(self.cls, (<_CudaObject>obj).handle)
        else:
            h = _uint64_of(self.cls, obj.raw_handle)
        h._obj = obj
        h._desc = handle_desc
        h._sampler = sampler
        h._filtered_integer = self.filtered_integer
        return h


def from_recipe(dict recipes, memory, desc, sampler):
    """``recipes[(id(memory), id(desc), id(sampler))].make(memory, desc, sampler)``, or
    None where there is no such recipe (create_image's first step)."""
    key = (PyLong_FromVoidPtr(<void*>memory), PyLong_FromVoidPtr(<void*>desc),
           PyLong_FromVoidPtr(<void*>sampler))
    r = recipes.get(key)
    if r is None:
        return None
    return (<HandleRecipe?>r).make(memory, desc, sampler)
