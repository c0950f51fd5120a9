# cython: language_level=3
"""Execute validated copy plans with ``cuMemcpy3DAsync`` / ``cuMemcpy3DPeerAsync``.

Validation happens before this module is reached (``imagearray.copies.plan``): here every
plan is assumed valid, and every driver call is still checked.
"""

from cpython.buffer cimport PyBUF_C_CONTIGUOUS, PyBuffer_Release, PyObject_GetBuffer
from cuda.bindings cimport cydriver

from imagearray._driver cimport as_custream, check, ensure_context, primary_context

from imagearray._errors import ImageArrayError

# Endpoint kinds, as the plain-Python layer passes them.
cdef enum:
    KIND_HOST = 0
    KIND_DEVICE = 1
    KIND_ARRAY = 2

HOST = KIND_HOST
DEVICE = KIND_DEVICE
ARRAY = KIND_ARRAY

# CUDA_MEMCPY3D is CUDA_MEMCPY3D_PEER with the two contexts named reserved0/1 (which
# must be NULL): one filler serves both calls.
if sizeof(cydriver.CUDA_MEMCPY3D) != sizeof(cydriver.CUDA_MEMCPY3D_PEER):
    raise ImageArrayError("CUDA_MEMCPY3D and CUDA_MEMCPY3D_PEER layouts differ in this cuda.h")


cdef inline cydriver.CUmemorytype _memtype(int kind):
    if kind == KIND_HOST:
        return cydriver.CU_MEMORYTYPE_HOST
    if kind == KIND_DEVICE:
        return cydriver.CU_MEMORYTYPE_DEVICE
    return cydriver.CU_MEMORYTYPE_ARRAY


cdef void _fill(cydriver.CUDA_MEMCPY3D_PEER* c, tuple src, tuple dst, tuple extent,
                size_t src_ctx, size_t dst_ctx) except *:
    cdef int sk = src[0]
    cdef int dk = dst[0]
    cdef size_t sp = src[1]
    cdef size_t dp = dst[1]
    c.srcMemoryType = _memtype(sk)
    c.srcHost = <const void*>sp if sk == KIND_HOST else NULL
    c.srcDevice = <cydriver.CUdeviceptr>sp if sk == KIND_DEVICE else 0
    c.srcArray = <cydriver.CUarray>sp if sk == KIND_ARRAY else NULL
    c.srcContext = <cydriver.CUcontext>src_ctx
    c.srcPitch = src[2] if sk != KIND_ARRAY else 0
    c.srcHeight = src[3] if sk != KIND_ARRAY else 0
    c.srcXInBytes, c.srcY, c.srcZ = src[4], src[5], src[6]
    c.srcLOD = 0
    c.dstMemoryType = _memtype(dk)
    c.dstHost = <void*>dp if dk == KIND_HOST else NULL
    c.dstDevice = <cydriver.CUdeviceptr>dp if dk == KIND_DEVICE else 0
    c.dstArray = <cydriver.CUarray>dp if dk == KIND_ARRAY else NULL
    c.dstContext = <cydriver.CUcontext>dst_ctx
    c.dstPitch = dst[2] if dk != KIND_ARRAY else 0
    c.dstHeight = dst[3] if dk != KIND_ARRAY else 0
    c.dstXInBytes, c.dstY, c.dstZ = dst[4], dst[5], dst[6]
    c.dstLOD = 0
    c.WidthInBytes, c.Height, c.Depth = extent


def memcpy3d(int device, stream, tuple src, tuple dst, tuple extent):
    """One ``cuMemcpy3DAsync`` on ``stream`` in ``device``'s primary context.

    ``src``/``dst`` are ``(kind, address, pitch, height, x_bytes, y, z)``: the address
    is a host pointer, a device pointer or a ``CUarray`` by kind; pitch/height
    describe linear memory (bytes per row, rows per slice). ``extent`` is
    ``(width_bytes, height, depth)``.
    """
    cdef cydriver.CUDA_MEMCPY3D_PEER c
    cdef cydriver.CUstream s = as_custream(stream)
    cdef cydriver.CUresult status
    _fill(&c, src, dst, extent, 0, 0)
    ensure_context(device)
    with nogil:
        status = cydriver.cuMemcpy3DAsync(<cydriver.CUDA_MEMCPY3D*>&c, s)
    if status != cydriver.CUDA_SUCCESS:  # the message is formatted only for a failure
        check(status, f"cuMemcpy3DAsync({extent[0]} B x {extent[1]} x {extent[2]})")


def memcpy3d_peer(int src_device, int dst_device, stream, tuple src, tuple dst, tuple extent):
    """``cuMemcpy3DPeerAsync`` between two devices' primary contexts, on ``stream``
    (a stream of the destination device). Arguments as :func:`memcpy3d`."""
    cdef cydriver.CUDA_MEMCPY3D_PEER c
    cdef cydriver.CUstream s = as_custream(stream)
    cdef cydriver.CUresult status
    _fill(&c, src, dst, extent, <size_t>primary_context(src_device),
          <size_t>primary_context(dst_device))
    ensure_context(dst_device)
    with nogil:
        status = cydriver.cuMemcpy3DPeerAsync(&c, s)
    if status != cydriver.CUDA_SUCCESS:
        check(status, f"cuMemcpy3DPeerAsync(device {src_device} -> {dst_device}, "
                      f"{extent[0]} B x {extent[1]} x {extent[2]})")


def host_key(obj, tag):
    """``(tag, address, nbytes, writeable)`` of ``obj``'s memory when it is a
    C-contiguous buffer (a NumPy array), else None: what ``ndarray.ctypes.data``,
    ``nbytes`` and ``flags`` say, read through the buffer protocol in one call (the
    copy fast path's key of host memory; ``ctypes.data`` alone builds an object)."""
    cdef Py_buffer view
    try:
        PyObject_GetBuffer(obj, &view, PyBUF_C_CONTIGUOUS)
    except (BufferError, ValueError, TypeError):  # NumPy: ValueError, not C-contiguous
        return None
    try:
        return (tag, <size_t>view.buf, view.len, not view.readonly)
    finally:
        PyBuffer_Release(&view)
