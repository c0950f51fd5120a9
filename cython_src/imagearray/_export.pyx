# cython: language_level=3
"""Exportable device memory: ``cuMemCreate`` + a reserved, mapped address range, and
``cuMemExportToShareableHandle`` (the UR memory-export extension on CUDA).

:class:`ExportableAllocation` owns the physical allocation and its mapping. Building
one runs, in order, ``cuMemCreate``, ``cuMemAddressReserve``, ``cuMemMap`` and
``cuMemSetAccess``; releasing runs ``cuMemUnmap``, ``cuMemAddressFree`` and
``cuMemRelease`` for exactly the steps that succeeded, exactly once (also when a
step of the construction fails).

CuPy arrays over the memory hold a :class:`ExportView` (the ``owner`` of their
``UnownedMemory``), which counts as a lease: ``release()`` with views still alive
only marks the allocation released, and the memory is unmapped when the last view
is collected, so a CuPy array never points at unmapped memory. Argument validation
lives in the plain-Python layer (``imagearray.interop.exportable``).
"""

from libc.string cimport memset
from cuda.bindings cimport cydriver

from imagearray._driver cimport check, ensure_context, pop_context, push_device_context

from imagearray._errors import ReleasedResourceError

HANDLE_POSIX_FD = <int>cydriver.CU_MEM_HANDLE_TYPE_POSIX_FILE_DESCRIPTOR


cdef void _fill_prop(cydriver.CUmemAllocationProp* prop, int device, int handle_type):
    memset(prop, 0, sizeof(cydriver.CUmemAllocationProp))
    prop.type = cydriver.CU_MEM_ALLOCATION_TYPE_PINNED
    prop.location.type = cydriver.CU_MEM_LOCATION_TYPE_DEVICE
    prop.location.id = device
    prop.requestedHandleTypes = <cydriver.CUmemAllocationHandleType>handle_type


def granularity(int device, int handle_type):
    """``cuMemGetAllocationGranularity`` (minimum) for an exportable allocation."""
    cdef cydriver.CUmemAllocationProp prop
    cdef size_t gran = 0
    _fill_prop(&prop, device, handle_type)
    ensure_context(device)
    check(cydriver.cuMemGetAllocationGranularity(&gran, &prop,
                                                 cydriver.CU_MEM_ALLOC_GRANULARITY_MINIMUM),
          "cuMemGetAllocationGranularity")
    return gran


cdef class ExportableAllocation:
    """Physical memory from ``cuMemCreate``, mapped read-write for its device.

    Attributes
    ----------
    device : int
    size : int
        Bytes mapped: the requested size rounded up to :attr:`granularity`.
    granularity : int
    handle_type : int
        The ``CUmemAllocationHandleType`` it can be exported as.
    views : int
        CuPy views (:class:`ExportView`) still alive.
    """

    cdef cydriver.CUmemGenericAllocationHandle handle
    cdef cydriver.CUdeviceptr dptr
    cdef readonly size_t size
    cdef readonly size_t granularity
    cdef readonly int device
    cdef readonly int handle_type
    cdef readonly int views
    cdef bint created      # cuMemCreate succeeded
    cdef bint reserved     # cuMemAddressReserve succeeded
    cdef bint mapped       # cuMemMap succeeded
    cdef bint released     # the owner asked for release
    cdef readonly bint destroyed
    cdef object __weakref__

    def __cinit__(self):
        self.handle = 0
        self.dptr = 0
        self.views = 0
        self.created = self.reserved = self.mapped = False
        self.released = self.destroyed = False

    def __dealloc__(self):
        # Views hold a reference to this object, so none is alive here.
        if not self.destroyed:
            try:
                self._destroy(False)
            except Exception:
                pass

    @property
    def alive(self):
        """False once :meth:`release` was called."""
        return not self.released

    @property
    def ptr(self):
        """The device address as an int; raises once released."""
        if self.released:
            raise ReleasedResourceError("the exportable memory was already freed")
        return <size_t>self.dptr

    cdef int _destroy(self, bint checked) except -1:
        """Undo the steps that succeeded, in reverse order, once. In the checked path
        every step is still attempted and the first failure is raised."""
        cdef cydriver.CUresult st
        cdef cydriver.CUresult first = cydriver.CUDA_SUCCESS
        cdef bint pushed = False
        cdef str what = ""
        if self.destroyed:
            return 0
        self.destroyed = True
        if not (self.created or self.reserved or self.mapped):
            return 0
        if checked:
            ensure_context(self.device)
            # Work still using the memory must finish before it is unmapped.
            with nogil:
                st = cydriver.cuCtxSynchronize()
            if st != cydriver.CUDA_SUCCESS:
                first, what = st, "cuCtxSynchronize (before freeing exportable memory)"
        else:
            pushed = push_device_context(self.device)
            with nogil:
                cydriver.cuCtxSynchronize()
        if self.mapped:
            self.mapped = False
            st = cydriver.cuMemUnmap(self.dptr, self.size)
            if st != cydriver.CUDA_SUCCESS and first == cydriver.CUDA_SUCCESS:
                first, what = st, "cuMemUnmap"
        if self.reserved:
            self.reserved = False
            st = cydriver.cuMemAddressFree(self.dptr, self.size)
            if st != cydriver.CUDA_SUCCESS and first == cydriver.CUDA_SUCCESS:
                first, what = st, "cuMemAddressFree"
        if self.created:
            self.created = False
            st = cydriver.cuMemRelease(self.handle)
            if st != cydriver.CUDA_SUCCESS and first == cydriver.CUDA_SUCCESS:
                first, what = st, "cuMemRelease"
        self.dptr = 0
        self.handle = 0
        if pushed:
            pop_context()
        if checked and first != cydriver.CUDA_SUCCESS:
            check(first, what)
        return 0

    def release(self):
        """Free the memory (the spec's ``free_exportable_memory``): now when no CuPy
        view is alive, otherwise when the last one is collected. A second call raises
        :class:`ReleasedResourceError`."""
        if self.released:
            raise ReleasedResourceError("the exportable memory was already freed")
        self.released = True
        if self.views == 0:
            self._destroy(True)

    def export(self):
        """``cuMemExportToShareableHandle``: a **new** POSIX fd the caller owns."""
        cdef int fd = -1
        if self.released:
            raise ReleasedResourceError("the exportable memory was already freed")
        ensure_context(self.device)
        check(cydriver.cuMemExportToShareableHandle(
                  &fd, self.handle, <cydriver.CUmemAllocationHandleType>self.handle_type, 0),
              "cuMemExportToShareableHandle")
        return fd

    def view(self):
        """An :class:`ExportView` lease, the owner for one CuPy ``UnownedMemory``."""
        cdef ExportView v
        if self.released:
            raise ReleasedResourceError("the exportable memory was already freed")
        v = ExportView.__new__(ExportView)
        v.allocation = self
        self.views += 1
        return v

    cdef void _unview(self) except *:
        self.views -= 1
        if self.released and self.views == 0:
            self._destroy(False)

    def __repr__(self):
        if not self.released:
            state = "alive"
        elif self.destroyed:
            state = "freed"
        else:
            state = f"freed, unmapped when its {self.views} view(s) go"
        return (f"<ExportableAllocation device {self.device} {self.size} bytes at "
                f"{<size_t>self.dptr:#x} {state}>")


cdef class ExportView:
    """Keeps an :class:`ExportableAllocation` mapped while a CuPy array uses it."""

    cdef readonly ExportableAllocation allocation

    def __dealloc__(self):
        if self.allocation is not None:
            try:
                self.allocation._unview()
            except Exception:
                pass

    @property
    def ptr(self):
        return <size_t>self.allocation.dptr


def allocate(int device, size_t size, size_t alignment, int handle_type):
    """Create, reserve, map and enable access to ``size`` bytes (rounded up to the
    granularity) on ``device``; ``alignment`` 0 means the granularity."""
    cdef cydriver.CUmemAllocationProp prop
    cdef cydriver.CUmemAccessDesc access
    cdef cydriver.CUresult status
    cdef size_t gran = granularity(device, handle_type)
    cdef size_t rounded = (size + gran - 1) // gran * gran
    cdef size_t align = alignment if alignment > gran else 0
    cdef ExportableAllocation a = ExportableAllocation.__new__(ExportableAllocation)
    a.device = device
    a.handle_type = handle_type
    a.granularity = gran
    a.size = rounded
    _fill_prop(&prop, device, handle_type)
    memset(&access, 0, sizeof(access))
    access.location.type = cydriver.CU_MEM_LOCATION_TYPE_DEVICE
    access.location.id = device
    access.flags = cydriver.CU_MEM_ACCESS_FLAGS_PROT_READWRITE
    ensure_context(device)
    try:
        with nogil:
            status = cydriver.cuMemCreate(&a.handle, rounded, &prop, 0)
        check(status, f"cuMemCreate({rounded} bytes, exportable, device {device})")
        a.created = True
        check(cydriver.cuMemAddressReserve(&a.dptr, rounded, align, 0, 0),
              f"cuMemAddressReserve({rounded} bytes, alignment {alignment})")
        a.reserved = True
        check(cydriver.cuMemMap(a.dptr, rounded, 0, a.handle, 0), f"cuMemMap({rounded} bytes)")
        a.mapped = True
        check(cydriver.cuMemSetAccess(a.dptr, rounded, &access, 1),
              f"cuMemSetAccess(device {device}, read-write)")
    except BaseException:
        a.released = True
        a._destroy(False)
        raise
    return a
