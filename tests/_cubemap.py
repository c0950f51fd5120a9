"""Directions to given cubemap face coordinates, for the GPU cubemap tests.

The inverse of ``reference.cubemap_face``: the CUDA programming guide's cubemap table
(face: major axis, s, t = +x: -z, -y | -x: +z, -y | +y: +x, +z | -y: +x, -z |
+z: +x, -y | -z: -x, -y) read backwards, with the major component 1.
"""

import numpy as np


def face_directions(face: int, u, v) -> np.ndarray:
    """float64 directions (last axis x, y, z) to face ``face`` (0-5: +x, -x, +y, -y,
    +z, -z) at normalized face coordinates ``u``, ``v``."""
    s, t = 2 * np.asarray(u, np.float64) - 1, 2 * np.asarray(v, np.float64) - 1
    one = np.ones_like(s)
    axes = [
        (one, -t, -s),
        (-one, -t, s),
        (s, one, t),
        (s, -one, -t),
        (s, -t, one),
        (-s, -t, -one),
    ][face]
    return np.stack(axes, -1)
