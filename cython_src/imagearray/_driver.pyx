# cython: language_level=3
"""The one door to the CUDA driver: initialisation, error translation, contexts.

Every driver call in imagearray is checked on the line it is made with
:func:`check`, which turns a failing ``CUresult`` into :class:`CUDAError` carrying
the driver's error name and text and what was being done. The first call loads
libcuda through cuda-bindings; when there is no driver or no device that is turned
into :class:`CUDAUnavailableError` here, in one place.
"""

from cuda.bindings cimport cydriver

from imagearray._errors import CUDAError, CUDAOutOfMemoryError, CUDAUnavailableError

cdef bint _initialized = False
cdef object _init_error = None
# Primary contexts retained once per device and kept for the life of the process,
# as the CUDA runtime (and so CuPy) does.
cdef dict _primary = {}


def error_name_and_text(int code):
    """Return the driver's ``(name, text)`` for a ``CUresult`` value."""
    cdef const char* name = NULL
    cdef const char* text = NULL
    cdef cydriver.CUresult c = <cydriver.CUresult>code
    if cydriver.cuGetErrorName(c, &name) != cydriver.CUDA_SUCCESS or name == NULL:
        return f"CUresult {code}", "unknown error code"
    cydriver.cuGetErrorString(c, &text)
    return name.decode(), (text.decode() if text != NULL else "")


cdef int check(cydriver.CUresult status, what) except -1:
    if status == cydriver.CUDA_SUCCESS:
        return 0
    name, text = error_name_and_text(<int>status)
    if status == cydriver.CUDA_ERROR_OUT_OF_MEMORY:
        raise CUDAOutOfMemoryError(<int>status, name, text, what)
    raise CUDAError(<int>status, name, text, what)


def init():
    """Initialise the driver once; raise :class:`CUDAUnavailableError` if impossible."""
    global _initialized, _init_error
    if _initialized:
        return
    if _init_error is not None:
        raise CUDAUnavailableError(_init_error)
    cdef cydriver.CUresult status
    try:
        status = cydriver.cuInit(0)
    except Exception as exc:  # cuda-bindings could not load libcuda
        _init_error = f"no CUDA driver could be loaded ({type(exc).__name__}: {exc})"
        raise CUDAUnavailableError(_init_error) from None
    if status == cydriver.CUDA_ERROR_NO_DEVICE:
        _init_error = "the CUDA driver is loaded but reports no CUDA device"
        raise CUDAUnavailableError(_init_error)
    if status != cydriver.CUDA_SUCCESS:
        name, text = error_name_and_text(<int>status)
        _init_error = f"the CUDA driver failed to initialise ({name}: {text})"
        raise CUDAUnavailableError(_init_error)
    _initialized = True


def is_available():
    """True if a driver and at least one device are present (never raises)."""
    try:
        init()
    except CUDAUnavailableError:
        return False
    return device_count() > 0


def driver_version():
    """The driver's CUDA version as an int, e.g. 13000 for 13.0."""
    init()
    cdef int v = 0
    check(cydriver.cuDriverGetVersion(&v), "cuDriverGetVersion")
    return v


def device_count():
    init()
    cdef int n = 0
    check(cydriver.cuDeviceGetCount(&n), "cuDeviceGetCount")
    return n


cdef cydriver.CUdevice _get_device(int device) except? -1:
    cdef cydriver.CUdevice dev = 0
    check(cydriver.cuDeviceGet(&dev, device), f"cuDeviceGet(device {device})")
    return dev


def device_attribute(int attribute, int device):
    """``cuDeviceGetAttribute(attribute, device)``."""
    init()
    cdef int value = 0
    cdef cydriver.CUdevice dev = _get_device(device)
    check(
        cydriver.cuDeviceGetAttribute(&value, <cydriver.CUdevice_attribute>attribute, dev),
        f"cuDeviceGetAttribute(attribute {attribute}, device {device})",
    )
    return value


def device_name(int device):
    init()
    cdef char buf[256]
    cdef cydriver.CUdevice dev = _get_device(device)
    check(cydriver.cuDeviceGetName(buf, 256, dev), f"cuDeviceGetName(device {device})")
    return buf.decode()


def device_total_mem(int device):
    init()
    cdef size_t nbytes = 0
    cdef cydriver.CUdevice dev = _get_device(device)
    check(cydriver.cuDeviceTotalMem(&nbytes, dev), f"cuDeviceTotalMem(device {device})")
    return nbytes


cdef cydriver.CUcontext primary_context(int device) except? NULL:
    """``device``'s primary context (the one CuPy uses), retained once; not made current."""
    init()
    cdef cydriver.CUcontext ctx
    cdef cydriver.CUdevice dev
    if device not in _primary:
        dev = _get_device(device)
        check(cydriver.cuDevicePrimaryCtxRetain(&ctx, dev),
              f"cuDevicePrimaryCtxRetain(device {device})")
        _primary[device] = <size_t>ctx
    return <cydriver.CUcontext><size_t>_primary[device]


cdef int ensure_context(int device) except -1:
    """Make ``device``'s primary context (the one CuPy uses) current on this thread."""
    cdef cydriver.CUcontext ctx = primary_context(device)
    cdef cydriver.CUcontext cur = NULL
    check(cydriver.cuCtxGetCurrent(&cur), "cuCtxGetCurrent")
    if cur != ctx:
        check(cydriver.cuCtxSetCurrent(ctx), f"cuCtxSetCurrent(device {device})")
    return 0


cdef int enter_context(int device) except -1:
    """Make ``device``'s primary context current for the driver calls that follow,
    leaving what the thread had current to come back with :c:func:`leave_context`:
    returns 1 where it pushed the context (another one, or none, was current), else
    0. Callers that may be reached with another device current in CuPy (handles made
    and destroyed on hot paths, without CuPy's device switch) never change what CuPy
    finds current."""
    cdef cydriver.CUcontext ctx = primary_context(device)
    cdef cydriver.CUcontext cur = NULL
    check(cydriver.cuCtxGetCurrent(&cur), "cuCtxGetCurrent")
    if cur == ctx:
        return 0
    check(cydriver.cuCtxPushCurrent(ctx), "cuCtxPushCurrent")
    return 1


cdef void leave_context(int pushed) noexcept:
    """End :c:func:`enter_context` (``pushed``: what it returned)."""
    cdef cydriver.CUcontext popped = NULL
    if pushed:
        cydriver.cuCtxPopCurrent(&popped)


cdef cydriver.CUcontext current_context() except? NULL:
    """The context current on this thread (NULL if none): recorded by objects that
    must later be destroyed in it."""
    cdef cydriver.CUcontext cur = NULL
    check(cydriver.cuCtxGetCurrent(&cur), "cuCtxGetCurrent")
    return cur


cdef bint push_context(cydriver.CUcontext ctx) noexcept:
    """Make ``ctx`` current for a destroy call from ``__dealloc__``, which may run on
    a thread where no context (or another device's) is current; False if it could
    not be pushed (NULL, or the driver is shutting down). Never raises."""
    if ctx == NULL:
        return False
    return cydriver.cuCtxPushCurrent(ctx) == cydriver.CUDA_SUCCESS


cdef bint push_device_context(int device) noexcept:
    """Push ``device``'s primary context for a best-effort destroy on the
    garbage-collected path, where nothing may raise; ``pop_context`` restores what
    was current (so GC never leaves another device's context current behind CuPy's
    back). False if it could not be pushed."""
    cdef cydriver.CUcontext ctx = NULL
    try:
        ctx = primary_context(device)
    except Exception:
        return False
    return push_context(ctx)


cdef void pop_context() noexcept:
    cdef cydriver.CUcontext popped = NULL
    cydriver.cuCtxPopCurrent(&popped)


def use_device(int device):
    """Python entry to :c:func:`ensure_context` (used by the plain-Python layer)."""
    ensure_context(device)


def current_context_handle():
    """The raw ``CUcontext`` current on this thread (0 if none)."""
    init()
    cdef cydriver.CUcontext cur = NULL
    check(cydriver.cuCtxGetCurrent(&cur), "cuCtxGetCurrent")
    return <size_t>cur


def primary_context_handle(int device):
    ensure_context(device)
    return _primary[device]


def record_event(event_handle, stream_handle):
    """``cuEventRecord``: record the event (a ``CUevent``, as ``cupy.cuda.Event.ptr``
    is) on the stream, checked like every other driver call."""
    check(cydriver.cuEventRecord(<cydriver.CUevent><size_t>event_handle,
                                 as_custream(stream_handle)), "cuEventRecord")


cdef cydriver.CUstream as_custream(stream_handle):
    return <cydriver.CUstream><size_t>stream_handle


def stream_device(stream_handle):
    """Device ordinal of the context a stream belongs to (the legacy/per-thread
    default streams, 0/1/2, belong to the current context)."""
    init()
    cdef cydriver.CUcontext ctx = NULL
    cdef cydriver.CUdevice dev = 0
    check(cydriver.cuStreamGetCtx(as_custream(stream_handle), &ctx), "cuStreamGetCtx")
    check(cydriver.cuCtxPushCurrent(ctx), "cuCtxPushCurrent")
    try:
        check(cydriver.cuCtxGetDevice(&dev), "cuCtxGetDevice")
    finally:
        cydriver.cuCtxPopCurrent(&ctx)
    return <int>dev
