# cython: language_level=3
"""Imported external memory and semaphores, owned by Cython classes.

One class per CUDA resource, each destroyed exactly once (explicitly, or in
``__dealloc__`` as the garbage-collected safety net):

- :class:`ExternalMemoryResource` owns a ``CUexternalMemory`` (``cuImportExternalMemory``
  ... ``cuDestroyExternalMemory``).
- :class:`MappedBuffer` owns a device pointer from ``cuExternalMemoryGetMappedBuffer``
  (freed with ``cuMemFree``, as CUDA requires); CuPy arrays over it hold it as the
  owner of their ``UnownedMemory``.
- :class:`MappedMipmappedArray` owns a ``CUmipmappedArray`` from
  ``cuExternalMemoryGetMappedMipmappedArray`` (freed with ``cuMipmappedArrayDestroy``).
- :class:`ExternalSemaphoreResource` owns a ``CUexternalSemaphore``.

A mapping holds a reference to the memory it was mapped from *and* counts as a lease
on it: CUDA says the mappings must no longer be used once the external memory is
destroyed, so ``release()`` with mappings still alive only marks the memory released
(no new mappings) and the driver object is destroyed when the last mapping is freed.

File descriptors: on a successful import CUDA owns the fd (it must not be used or
closed afterwards); on failure the caller still owns it. Nothing here ever closes an
fd. Validation of every argument happens in the plain-Python layer
(``imagearray.interop``) before these functions are reached.
"""

from libc.string cimport memset
from cuda.bindings cimport cydriver

from imagearray._driver cimport (
    as_custream, check, ensure_context, pop_context, push_device_context,
)

from imagearray._errors import ImageArrayValueError, ReleasedResourceError

# Handle-type codes as the plain-Python layer passes them: CUDA's own enum values.
MEM_OPAQUE_FD = <int>cydriver.CU_EXTERNAL_MEMORY_HANDLE_TYPE_OPAQUE_FD
MEM_DMA_BUF_FD = <int>cydriver.CU_EXTERNAL_MEMORY_HANDLE_TYPE_DMABUF_FD
SEM_OPAQUE_FD = <int>cydriver.CU_EXTERNAL_SEMAPHORE_HANDLE_TYPE_OPAQUE_FD
SEM_TIMELINE_FD = <int>cydriver.CU_EXTERNAL_SEMAPHORE_HANDLE_TYPE_TIMELINE_SEMAPHORE_FD
ARRAY3D_COLOR_ATTACHMENT = <int>cydriver.CUDA_ARRAY3D_COLOR_ATTACHMENT


# --------------------------------------------------------------------------- memory


cdef class ExternalMemoryResource:
    """A ``CUexternalMemory`` (the spec's ``interop_mem_handle``).

    Attributes
    ----------
    device : int
        Device ordinal it was imported on.
    size : int
        Bytes, as given to ``cuImportExternalMemory``.
    handle_type : int
        The ``CUexternalMemoryHandleType`` it was imported as.
    dedicated : bool
        Imported with ``CUDA_EXTERNAL_MEMORY_DEDICATED``.
    mappings : int
        Mappings (buffers, mipmapped arrays) made from it and not yet freed.
    """

    cdef cydriver.CUexternalMemory ext
    cdef readonly int device
    cdef readonly unsigned long long size
    cdef readonly int handle_type
    cdef readonly bint dedicated
    cdef readonly int mappings
    cdef bint released
    cdef readonly bint destroyed
    cdef object __weakref__

    def __cinit__(self):
        self.ext = NULL
        self.mappings = 0
        self.released = False
        self.destroyed = False

    def __dealloc__(self):
        cdef bint pushed = False
        # Mappings hold a reference to this object, so none is alive here.
        if not self.destroyed and self.ext != NULL:
            pushed = push_device_context(self.device)
            cydriver.cuDestroyExternalMemory(self.ext)
            if pushed:
                pop_context()
        self.ext = NULL

    @property
    def alive(self):
        """False once :meth:`release` was called (the driver object may outlive it
        while mappings exist; see :attr:`destroyed`)."""
        return not self.released

    cpdef size_t raw(self) except? 0:
        """The ``CUexternalMemory`` as an int; raises once released."""
        if self.released:
            raise ReleasedResourceError("the external memory was already released")
        return <size_t>self.ext

    @property
    def raw_handle(self):
        return self.raw()

    cdef int _destroy(self, bint checked) except -1:
        cdef cydriver.CUexternalMemory ext = self.ext
        cdef bint pushed = False
        if self.destroyed:
            return 0
        self.destroyed = True
        self.ext = NULL
        if ext == NULL:
            return 0
        if checked:
            ensure_context(self.device)
            check(cydriver.cuDestroyExternalMemory(ext), "cuDestroyExternalMemory")
        else:
            pushed = push_device_context(self.device)
            cydriver.cuDestroyExternalMemory(ext)
            if pushed:
                pop_context()
        return 0

    cdef void _unlease(self, bint checked) except *:
        self.mappings -= 1
        if self.released and self.mappings == 0:
            self._destroy(checked)

    def release(self):
        """Release the import (the spec's ``release_external_memory``).

        With no mapping alive the driver object is destroyed now; otherwise when the
        last mapping is freed. A second call raises :class:`ReleasedResourceError`.
        """
        if self.released:
            raise ReleasedResourceError("the external memory was already released")
        self.released = True
        if self.mappings == 0:
            self._destroy(True)

    def map_buffer(self, unsigned long long offset, unsigned long long size):
        """``cuExternalMemoryGetMappedBuffer``: a :class:`MappedBuffer` of ``size``
        bytes at ``offset``."""
        cdef cydriver.CUDA_EXTERNAL_MEMORY_BUFFER_DESC bd
        cdef cydriver.CUresult status
        cdef cydriver.CUexternalMemory ext = <cydriver.CUexternalMemory>self.raw()
        cdef MappedBuffer m = MappedBuffer.__new__(MappedBuffer)
        memset(&bd, 0, sizeof(bd))
        bd.offset = offset
        bd.size = size
        ensure_context(self.device)
        with nogil:
            status = cydriver.cuExternalMemoryGetMappedBuffer(&m.dptr, ext, &bd)
        if status != cydriver.CUDA_SUCCESS:
            m.dptr = 0
        check(status, f"cuExternalMemoryGetMappedBuffer(offset {offset}, {size} bytes of "
                      f"{self.size})")
        m.size = size
        m.offset = offset
        m.device = self.device
        m.memory = self
        self.mappings += 1
        return m

    def map_mipmapped_array(self, unsigned long long offset, size_t width, size_t height,
                            size_t depth, int fmt, unsigned int channels,
                            unsigned int flags, unsigned int levels):
        """``cuExternalMemoryGetMappedMipmappedArray`` with CUDA extents (height/depth
        0 when unused): a :class:`MappedMipmappedArray` of ``levels`` levels."""
        cdef cydriver.CUDA_EXTERNAL_MEMORY_MIPMAPPED_ARRAY_DESC md
        cdef cydriver.CUresult status
        cdef cydriver.CUexternalMemory ext = <cydriver.CUexternalMemory>self.raw()
        cdef MappedMipmappedArray m = MappedMipmappedArray.__new__(MappedMipmappedArray)
        memset(&md, 0, sizeof(md))
        md.offset = offset
        md.arrayDesc.Width = width
        md.arrayDesc.Height = height
        md.arrayDesc.Depth = depth
        md.arrayDesc.Format = <cydriver.CUarray_format>fmt
        md.arrayDesc.NumChannels = channels
        md.arrayDesc.Flags = flags
        md.numLevels = levels
        ensure_context(self.device)
        with nogil:
            status = cydriver.cuExternalMemoryGetMappedMipmappedArray(&m.marray, ext, &md)
        if status != cydriver.CUDA_SUCCESS:
            m.marray = NULL
        check(status, f"cuExternalMemoryGetMappedMipmappedArray({width}x{height}x{depth}, "
                      f"{channels} channel(s), {levels} level(s), offset {offset}, "
                      f"flags {flags:#x})")
        m.device = self.device
        m.num_levels = levels
        m.memory = self
        self.mappings += 1
        return m

    def __repr__(self):
        state = "alive" if not self.released else (
            "destroyed" if self.destroyed else f"released, {self.mappings} mapping(s) alive")
        return (f"<ExternalMemoryResource device {self.device} {self.size} bytes "
                f"type {self.handle_type} {state}>")


cdef class MappedBuffer:
    """Linear device memory mapped from an :class:`ExternalMemoryResource`.

    It is the ``owner`` of the CuPy ``UnownedMemory`` built over it, so it lives as
    long as any CuPy array over it, and keeps its external memory alive.
    """

    cdef cydriver.CUdeviceptr dptr
    cdef readonly unsigned long long size
    cdef readonly unsigned long long offset
    cdef readonly int device
    cdef readonly ExternalMemoryResource memory
    cdef bint freed
    cdef object __weakref__

    def __cinit__(self):
        self.dptr = 0
        self.freed = False
        self.memory = None

    def __dealloc__(self):
        cdef bint pushed = False
        if not self.freed and self.dptr != 0:
            self.freed = True
            pushed = push_device_context(self.device)
            cydriver.cuMemFree(self.dptr)
            if pushed:
                pop_context()
            self.dptr = 0
            if self.memory is not None:
                try:
                    self.memory._unlease(False)
                except Exception:
                    pass

    @property
    def alive(self):
        return not self.freed

    @property
    def ptr(self):
        """The device pointer as an int; raises once freed."""
        if self.freed:
            raise ReleasedResourceError("the mapped buffer was already freed")
        return <size_t>self.dptr

    def free(self):
        """``cuMemFree`` now (only safe when no CuPy array uses it any more)."""
        cdef cydriver.CUdeviceptr p = self.dptr
        cdef ExternalMemoryResource mem = self.memory
        if self.freed:
            raise ReleasedResourceError("the mapped buffer was already freed")
        self.freed = True
        self.dptr = 0
        self.memory = None  # the import may go as soon as nothing else holds it
        ensure_context(self.device)
        try:
            check(cydriver.cuMemFree(p), "cuMemFree (mapped external buffer)")
        finally:
            mem._unlease(True)

    def __repr__(self):
        state = "alive" if not self.freed else "freed"
        return f"<MappedBuffer device {self.device} {self.size} bytes at +{self.offset} {state}>"


cdef class MappedMipmappedArray:
    """A ``CUmipmappedArray`` mapped from an :class:`ExternalMemoryResource`.

    A standard image is mapped as one level and used through :meth:`level` 0; its
    ``CUarray`` belongs to this object (CUDA frees it with the mipmapped array).
    """

    cdef cydriver.CUmipmappedArray marray
    cdef readonly int device
    cdef readonly unsigned int num_levels
    cdef readonly ExternalMemoryResource memory
    cdef bint freed
    cdef object __weakref__

    def __cinit__(self):
        self.marray = NULL
        self.freed = False
        self.memory = None

    def __dealloc__(self):
        cdef bint pushed = False
        if not self.freed and self.marray != NULL:
            self.freed = True
            pushed = push_device_context(self.device)
            cydriver.cuMipmappedArrayDestroy(self.marray)
            if pushed:
                pop_context()
            self.marray = NULL
            if self.memory is not None:
                try:
                    self.memory._unlease(False)
                except Exception:
                    pass

    @property
    def alive(self):
        return not self.freed

    cpdef size_t raw(self) except? 0:
        """The ``CUmipmappedArray`` as an int; raises once freed."""
        if self.freed:
            raise ReleasedResourceError("the mapped image memory was already freed")
        return <size_t>self.marray

    def level(self, unsigned int level):
        """The ``CUarray`` of ``level`` as an int (owned by this object)."""
        cdef cydriver.CUarray arr = NULL
        cdef cydriver.CUmipmappedArray m = <cydriver.CUmipmappedArray>self.raw()
        if level >= self.num_levels:
            raise ImageArrayValueError(
                f"mip level {level} out of range: this mapping has {self.num_levels} "
                f"level(s) (0..{self.num_levels - 1})"
            )
        ensure_context(self.device)
        check(cydriver.cuMipmappedArrayGetLevel(&arr, m, level),
              f"cuMipmappedArrayGetLevel(level {level})")
        return <size_t>arr

    def free(self):
        """``cuMipmappedArrayDestroy`` now; a second call raises
        :class:`ReleasedResourceError`."""
        cdef cydriver.CUmipmappedArray m = self.marray
        cdef ExternalMemoryResource mem = self.memory
        if self.freed:
            raise ReleasedResourceError("the mapped image memory was already freed")
        self.freed = True
        self.marray = NULL
        self.memory = None  # the import may go as soon as nothing else holds it
        ensure_context(self.device)
        try:
            check(cydriver.cuMipmappedArrayDestroy(m),
                  "cuMipmappedArrayDestroy (mapped external image)")
        finally:
            mem._unlease(True)

    def __repr__(self):
        state = "alive" if not self.freed else "freed"
        return f"<MappedMipmappedArray device {self.device} {self.num_levels} level(s) {state}>"


def import_memory(int device, int handle_type, int fd, unsigned long long size,
                  bint dedicated):
    """``cuImportExternalMemory`` of a POSIX fd (opaque or dma-buf).

    On success CUDA owns ``fd``; on failure (:class:`CUDAError`) the caller does.
    """
    cdef cydriver.CUDA_EXTERNAL_MEMORY_HANDLE_DESC d
    cdef cydriver.CUresult status
    cdef ExternalMemoryResource r = ExternalMemoryResource.__new__(ExternalMemoryResource)
    memset(&d, 0, sizeof(d))
    d.type = <cydriver.CUexternalMemoryHandleType>handle_type
    d.handle.fd = fd
    d.size = size
    d.flags = cydriver.CUDA_EXTERNAL_MEMORY_DEDICATED if dedicated else 0
    r.device = device
    ensure_context(device)
    with nogil:
        status = cydriver.cuImportExternalMemory(&r.ext, &d)
    if status != cydriver.CUDA_SUCCESS:
        r.ext = NULL
        r.destroyed = True
    check(status, f"cuImportExternalMemory(fd {fd}, type {handle_type}, {size} bytes"
                  f"{', dedicated' if dedicated else ''})")
    r.size = size
    r.handle_type = handle_type
    r.dedicated = dedicated
    return r


def array_descriptor(int device, size_t raw_array):
    """``cuArray3DGetDescriptor``: ``(width, height, depth, format, channels, flags)``."""
    cdef cydriver.CUDA_ARRAY3D_DESCRIPTOR d
    ensure_context(device)
    check(cydriver.cuArray3DGetDescriptor(&d, <cydriver.CUarray>raw_array),
          "cuArray3DGetDescriptor")
    return (d.Width, d.Height, d.Depth, <int>d.Format, d.NumChannels, d.Flags)


# --------------------------------------------------------------------------- semaphores


cdef class ExternalSemaphoreResource:
    """A ``CUexternalSemaphore`` (the spec's ``interop_semaphore_handle``).

    CUDA requires every wait and signal enqueued on a semaphore to have completed
    before it is destroyed, so an event is recorded after each one (one per stream,
    re-recorded) and :meth:`destroy` waits for them. The garbage-collected path
    never blocks: with work still pending it leaves the semaphore to the driver's
    teardown rather than destroy it under a waiting stream.
    """

    cdef cydriver.CUexternalSemaphore sem
    cdef readonly int device
    cdef readonly int handle_type
    cdef bint destroyed
    cdef dict _events  # stream handle -> CUevent (as int)
    cdef object __weakref__

    def __cinit__(self):
        self.sem = NULL
        self.destroyed = False
        self._events = {}

    def __dealloc__(self):
        cdef cydriver.CUevent ev
        cdef bint pushed = False
        cdef bint pending = False
        if self.destroyed or self.sem == NULL:
            return
        self.destroyed = True
        pushed = push_device_context(self.device)
        for v in self._events.values():
            ev = <cydriver.CUevent><size_t>v
            if cydriver.cuEventQuery(ev) == cydriver.CUDA_ERROR_NOT_READY:
                pending = True
            else:
                cydriver.cuEventDestroy(ev)
        if not pending:
            cydriver.cuDestroyExternalSemaphore(self.sem)
        if pushed:
            pop_context()
        self.sem = NULL

    @property
    def alive(self):
        return not self.destroyed

    cpdef size_t raw(self) except? 0:
        if self.destroyed:
            raise ReleasedResourceError("the external semaphore was already destroyed")
        return <size_t>self.sem

    @property
    def raw_handle(self):
        return self.raw()

    cdef int _track(self, stream_handle) except -1:
        cdef cydriver.CUevent ev = NULL
        v = self._events.get(stream_handle)
        if v is None:
            check(cydriver.cuEventCreate(&ev, cydriver.CU_EVENT_DISABLE_TIMING), "cuEventCreate")
            self._events[stream_handle] = <size_t>ev
        else:
            ev = <cydriver.CUevent><size_t>v
        check(cydriver.cuEventRecord(ev, as_custream(stream_handle)), "cuEventRecord")
        return 0

    def wait(self, unsigned long long value, stream_handle):
        """``cuWaitExternalSemaphoresAsync`` on ``stream_handle`` (``value`` is the
        timeline value; ignored by binary semaphores)."""
        cdef cydriver.CUDA_EXTERNAL_SEMAPHORE_WAIT_PARAMS p
        cdef cydriver.CUresult status
        cdef cydriver.CUexternalSemaphore s = <cydriver.CUexternalSemaphore>self.raw()
        cdef cydriver.CUstream st = as_custream(stream_handle)
        memset(&p, 0, sizeof(p))
        p.params.fence.value = value
        ensure_context(self.device)
        with nogil:
            status = cydriver.cuWaitExternalSemaphoresAsync(&s, &p, 1, st)
        check(status, f"cuWaitExternalSemaphoresAsync(value {value})")
        self._track(stream_handle)

    def signal(self, unsigned long long value, stream_handle):
        """``cuSignalExternalSemaphoresAsync`` on ``stream_handle``."""
        cdef cydriver.CUDA_EXTERNAL_SEMAPHORE_SIGNAL_PARAMS p
        cdef cydriver.CUresult status
        cdef cydriver.CUexternalSemaphore s = <cydriver.CUexternalSemaphore>self.raw()
        cdef cydriver.CUstream st = as_custream(stream_handle)
        memset(&p, 0, sizeof(p))
        p.params.fence.value = value
        ensure_context(self.device)
        with nogil:
            status = cydriver.cuSignalExternalSemaphoresAsync(&s, &p, 1, st)
        check(status, f"cuSignalExternalSemaphoresAsync(value {value})")
        self._track(stream_handle)

    def destroy(self):
        """Wait for the waits and signals enqueued on it, then
        ``cuDestroyExternalSemaphore``. A second call raises
        :class:`ReleasedResourceError`."""
        cdef cydriver.CUevent ev
        cdef cydriver.CUresult status
        cdef cydriver.CUexternalSemaphore s = <cydriver.CUexternalSemaphore>self.raw()
        ensure_context(self.device)
        events = list(self._events.values())
        self._events.clear()
        for v in events:
            ev = <cydriver.CUevent><size_t>v
            with nogil:
                status = cydriver.cuEventSynchronize(ev)
            cydriver.cuEventDestroy(ev)
            check(status, "cuEventSynchronize (work enqueued on an external semaphore)")
        self.destroyed = True
        self.sem = NULL
        check(cydriver.cuDestroyExternalSemaphore(s), "cuDestroyExternalSemaphore")

    def __repr__(self):
        state = "alive" if not self.destroyed else "destroyed"
        return f"<ExternalSemaphoreResource device {self.device} type {self.handle_type} {state}>"


def import_semaphore(int device, int handle_type, int fd):
    """``cuImportExternalSemaphore`` of a POSIX fd (binary opaque or timeline).

    On success CUDA owns ``fd``; on failure (:class:`CUDAError`) the caller does.
    """
    cdef cydriver.CUDA_EXTERNAL_SEMAPHORE_HANDLE_DESC d
    cdef cydriver.CUresult status
    cdef ExternalSemaphoreResource r = ExternalSemaphoreResource.__new__(
        ExternalSemaphoreResource)
    memset(&d, 0, sizeof(d))
    d.type = <cydriver.CUexternalSemaphoreHandleType>handle_type
    d.handle.fd = fd
    r.device = device
    ensure_context(device)
    with nogil:
        status = cydriver.cuImportExternalSemaphore(&r.sem, &d)
    if status != cydriver.CUDA_SUCCESS:
        r.sem = NULL
        r.destroyed = True
    check(status, f"cuImportExternalSemaphore(fd {fd}, type {handle_type})")
    r.handle_type = handle_type
    return r
