"""Faults (issue 20, "What to build" 4): out-of-memory for every kind of image
memory, pitched USM and exportable memory raises CUDAOutOfMemoryError and the
library works after freeing; a process that exported memory dies while another has
it imported: the importer keeps its bytes and frees cleanly; a user kernel fault
(an out-of-bounds surface write) leaves a clear CUDAError on the next library call
(subprocess: CUDA contexts do not recover; see CUDAError's notes).
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile

import numpy as np
import pytest
from _rel import record, run_python

import imagearray as ia
from imagearray.interop import exportable as exp

pytestmark = pytest.mark.gpu

LEAVE_FREE = 768 << 20  # what the filler leaves for the kind under test to exhaust
RGBA32 = dict(channel_order="rgba", channel_type="fp32")
KINDS = {
    "1D": lambda: ia.ImageMem(ia.ImageDescriptor(16384, **RGBA32)),
    "2D": lambda: ia.ImageMem(ia.ImageDescriptor(2048, 2048, **RGBA32)),
    "3D": lambda: ia.ImageMem(ia.ImageDescriptor(256, 256, 128, **RGBA32)),
    "mipmap": lambda: ia.ImageMem(
        ia.ImageDescriptor(2048, 2048, type="mipmap", num_levels=8, **RGBA32)
    ),
    "layered": lambda: ia.ImageMem(
        ia.ImageDescriptor(1024, 1024, type="array", array_size=8, **RGBA32)
    ),
    "cubemap": lambda: ia.ImageMem(
        ia.ImageDescriptor(1024, 1024, type="cubemap", array_size=6, **RGBA32)
    ),
    "pitched USM": lambda: ia.pitched_alloc_device(ia.ImageDescriptor(4096, 2048, **RGBA32)),
    "exportable": lambda: exp.alloc_exportable_memory(64 << 20),
}


def _fill_device():
    """CuPy blocks of 1 GiB, then smaller, until about LEAVE_FREE is left."""
    import cupy

    pool = cupy.get_default_memory_pool()
    pool.free_all_blocks()
    blocks = []
    for size in (1 << 30, 256 << 20, 64 << 20):
        while cupy.cuda.runtime.memGetInfo()[0] > LEAVE_FREE + size:
            try:
                blocks.append(cupy.cuda.memory.alloc(size))  # cudaMalloc, not the pool
            except cupy.cuda.memory.OutOfMemoryError:
                break
    return blocks


def _release(objs):
    for o in objs:
        free = getattr(o, "free", None)
        if callable(free) and getattr(o, "alive", True):
            free()
    objs.clear()


@pytest.mark.parametrize("kind", list(KINDS))
def test_out_of_memory_raises_the_family_error_and_recovers(kind):
    import cupy

    if kind == "exportable" and not exp.exportable_memory_supported():
        pytest.skip("this device/driver cannot allocate exportable (POSIX fd) memory")
    make = KINDS[kind]
    make_one = make()  # the kind works at all (and its first-use costs are paid)
    _release([make_one] if not isinstance(make_one, tuple) else [])
    del make_one
    filler = _fill_device()
    held, err, made = [], None, 0
    try:
        for _ in range(100_000):
            try:
                held.append(make())
            except ia.CUDAOutOfMemoryError as exc:
                err = exc
                break
        made = len(held)
    finally:
        _release(held)
        held.clear()
        filler.clear()
        cupy.get_default_memory_pool().free_all_blocks()
    assert err is not None, f"{kind}: the device never ran out of memory"
    assert isinstance(err, MemoryError) and "OUT_OF_MEMORY" in str(err)
    # recovered: the same kind allocates again, and a kernel runs right
    again = make()
    _release([again] if not isinstance(again, tuple) else [])
    data = np.arange(64, dtype=np.float32).reshape(8, 8)
    img = ia.asimage(data)
    np.testing.assert_array_equal(img.fetch(np.array([[3, 2]])).get(), [data[2, 3]])
    img.free()
    record("oom", kind=kind, recovered=True, allocations_before_oom=made)


_EXPORTER = r"""
import json, socket, sys, time
import numpy as np
import cupy
from imagearray.interop import exportable as exp

m = exp.alloc_exportable_memory(4 << 20)
a = m.to_cupy(np.uint32)
a[:] = (cupy.arange(a.size, dtype=cupy.uint64) * 2654435761 % 2**32).astype(cupy.uint32)
cupy.cuda.Device().synchronize()
fd = exp.export_memory_handle(m)
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sys.argv[1])
socket.send_fds(s, [json.dumps({"size": m.size, "n": int(a.size)}).encode()], [fd])
s.recv(1)  # the importer has it mapped
time.sleep(600)  # killed here, holding everything
"""


def test_exporter_dies_while_the_importer_holds_the_memory():
    import cupy

    from imagearray import interop as ext

    if not exp.exportable_memory_supported():
        pytest.skip("this device/driver cannot allocate exportable (POSIX fd) memory")
    path = os.path.join(tempfile.mkdtemp(), "export.sock")
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(path)
    server.listen(1)
    server.settimeout(120)
    proc = subprocess.Popen([sys.executable, "-c", _EXPORTER, path])
    try:
        conn, _ = server.accept()
        msg, fds, _, _ = socket.recv_fds(conn, 1024, 1)
        info = json.loads(msg)
        try:
            mem = ext.import_external_memory(
                ext.ExternalMemDescriptor(ext.ResourceFD(fds[0]), info["size"])
            )
        except ia.CUDAError as exc:
            os.close(fds[0])
            pytest.skip(f"the driver refuses to import an opaque fd of another process: {exc}")
        view = ext.map_external_linear_memory(mem, 0, info["n"] * 4, dtype=np.uint32)
        conn.send(b"k")
        proc.kill()  # the exporter dies, holding its allocation and export
        assert proc.wait(timeout=60) != 0
        want = (np.arange(info["n"], dtype=np.uint64) * 2654435761 % 2**32).astype(np.uint32)
        np.testing.assert_array_equal(view.get(), want)  # the importer keeps its bytes
        view[:16] = 7  # and can still write them
        cupy.cuda.Device().synchronize()
        assert (view[:16].get() == 7).all()
        del view
        ext.release_external_memory(mem)  # frees cleanly
        with pytest.raises(ia.ReleasedResourceError):
            mem.release()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        server.close()
    img = ia.asimage(np.eye(8, dtype=np.float32))
    np.testing.assert_array_equal(img.get(), np.eye(8))
    record("exporter death", importer_kept_bytes=True)


_FAULT = r"""
import json, time
import numpy as np
import cupy
import imagearray as ia

img = ia.zeros((32, 32), np.float32)
surf = img.surface()
k = cupy.RawKernel(r'''
extern "C" __global__ void oob(unsigned long long s) {
    surf2Dwrite(1.0f, (cudaSurfaceObject_t)s, 4 * 100000, 100000);  // trap mode: faults
}''', "oob")
k((1,), (1,), (np.uint64(int(surf)),))
time.sleep(2)  # the fault has happened; nothing has looked yet
out = {}
for call in ("get", "asimage", "fetch"):
    try:
        if call == "get":
            img.get()
        elif call == "asimage":
            ia.asimage(np.ones((4, 4), np.float32))
        else:
            img.fetch(np.zeros((1, 2), np.int32)).get()
        out[call] = "no error"
    except ia.CUDAError as exc:
        out[call] = ["CUDAError", exc.name, str(exc)[:200]]
    except Exception as exc:
        out[call] = ["outside", type(exc).__name__, str(exc)[:200]]
print("RESULT " + json.dumps(out))
"""


def test_a_user_kernel_fault_leaves_a_clear_error_on_the_next_call():
    rc, out, err = run_python(_FAULT, timeout=120)
    line = next((ln for ln in out.splitlines() if ln.startswith("RESULT ")), None)
    assert line is not None, f"the process died (rc={rc}) instead of raising:\n{err[-3000:]}"
    got = json.loads(line[len("RESULT ") :])
    first = got["get"]
    assert first[0] == "CUDAError", got  # the next library call: the family's error
    # the driver's name for it (CUDA_ERROR_ILLEGAL_ADDRESS, _LAUNCH_FAILED, ...)
    assert first[1].startswith("CUDA_ERROR_") and "OUT_OF_MEMORY" not in first[1], got
    assert first[1] in first[2]  # the message names the fault
    # and every later call too (CUDA contexts do not recover); never a crash
    assert got["asimage"][0] == "CUDAError", got
    record("kernel fault", next_call=first[1], later_calls=got["asimage"][1])
