# cython: language_level=3
"""Page-locked host memory: one ``cuMemHostRegister`` registration per object.

:class:`HostRegistration` owns one registration of a host range made with
``CU_MEMHOSTREGISTER_PORTABLE`` (page-locked for every CUDA context, so for every
device) and unregisters it exactly once: explicit :meth:`HostRegistration.free`, or
``__dealloc__`` for the garbage-collected case. It holds a reference to the Python
object whose memory it pins, so that memory cannot be freed (nor, for a buffer
export, resized) while registered.

Validation, overlap checks and the registry of prepared ranges live in plain Python
(``imagearray.copies.hostmem``); here every range is assumed valid and every driver
call is still checked.
"""

from cuda.bindings cimport cydriver

from imagearray._driver cimport check, ensure_context, pop_context, push_context

from imagearray._errors import ReleasedResourceError

PORTABLE = cydriver.CU_MEMHOSTREGISTER_PORTABLE


cdef class HostRegistration:
    """One ``cuMemHostRegister`` registration of ``[address, address + nbytes)``.

    Attributes
    ----------
    address : int
        First byte of the registered range.
    nbytes : int
        Length of the range in bytes.
    device : int
        Device whose primary context was current when registering (the
        registration is portable: every context sees the memory as page-locked).
    owner : object or None
        What keeps the memory alive while registered (None for a bare pointer, and
        after :meth:`free`).
    """

    cdef void* ptr
    # The primary context current at registration (retained by _driver for the
    # life of the process): __dealloc__ makes it current to unregister.
    cdef cydriver.CUcontext ctx
    cdef bint registered
    cdef readonly size_t address
    cdef readonly size_t nbytes
    cdef readonly int device
    cdef readonly object owner
    cdef object __weakref__

    def __cinit__(self):
        self.ptr = NULL
        self.ctx = NULL
        self.registered = False
        self.owner = None

    def __dealloc__(self):
        if not self.registered or self.ptr == NULL:
            return
        self.registered = False
        # Errors cannot propagate from __dealloc__. If the context is already gone
        # (interpreter exit) the driver has dropped the registration with it.
        if push_context(self.ctx):
            cydriver.cuMemHostUnregister(self.ptr)
            pop_context()
        self.ptr = NULL

    @property
    def alive(self):
        """True until the range is unregistered."""
        return self.registered

    def free(self):
        """Unregister the range now (``cuMemHostUnregister``) and drop the owner.

        Freeing twice raises :class:`ReleasedResourceError`. The registration counts
        as released even if the driver call fails (the error is raised): it is
        never attempted twice.
        """
        cdef cydriver.CUresult status
        cdef void* p = self.ptr
        if not self.registered:
            raise ReleasedResourceError(
                f"host range 0x{self.address:x} ({self.nbytes} B) was already unregistered"
            )
        # The registration's own context, pushed and popped: whatever context (and so
        # CuPy device) the caller has current stays current.
        check(cydriver.cuCtxPushCurrent(self.ctx), "cuCtxPushCurrent")
        self.registered = False
        self.ptr = NULL
        try:
            with nogil:
                status = cydriver.cuMemHostUnregister(p)
            pop_context()
            check(status, f"cuMemHostUnregister(0x{self.address:x}, {self.nbytes} B)")
        finally:
            self.owner = None

    def __repr__(self):
        state = "registered" if self.registered else "released"
        return (
            f"<HostRegistration 0x{self.address:x} {self.nbytes} B device {self.device} "
            f"{state}>"
        )


def register(object owner, size_t address, size_t nbytes, int device):
    """``cuMemHostRegister(address, nbytes, CU_MEMHOSTREGISTER_PORTABLE)`` with
    ``device``'s primary context current; returns the owning
    :class:`HostRegistration`, which keeps ``owner`` alive until freed."""
    cdef HostRegistration r = HostRegistration.__new__(HostRegistration)
    cdef void* p = <void*>address
    cdef cydriver.CUresult status
    cdef cydriver.CUcontext cur = NULL
    ensure_context(device)
    check(cydriver.cuCtxGetCurrent(&cur), "cuCtxGetCurrent")
    # Pinning a large range takes a while (every page is faulted in and locked):
    # let other Python threads run meanwhile.
    with nogil:
        status = cydriver.cuMemHostRegister(p, nbytes, cydriver.CU_MEMHOSTREGISTER_PORTABLE)
    check(status, f"cuMemHostRegister(0x{address:x}, {nbytes} B, PORTABLE)")
    r.ptr = p
    r.ctx = cur
    r.address = address
    r.nbytes = nbytes
    r.device = device
    r.owner = owner
    r.registered = True
    return r
