from cuda.bindings cimport cydriver

cdef int check(cydriver.CUresult status, what) except -1
cdef int ensure_context(int device) except -1
cdef int enter_context(int device) except -1
cdef void leave_context(int pushed) noexcept
cdef cydriver.CUcontext primary_context(int device) except? NULL
cdef cydriver.CUstream as_custream(stream_handle)
cdef cydriver.CUcontext current_context() except? NULL
cdef bint push_context(cydriver.CUcontext ctx) noexcept
cdef bint push_device_context(int device) noexcept
cdef void pop_context() noexcept
