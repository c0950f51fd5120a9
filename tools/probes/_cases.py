"""The cases the 3D probes here share (the benchmark's): the (3, 4) matrix that keeps
axis 0 and rotates axes 1, 2 by ``angle`` about the centre of an ``n``^3 volume."""

import numpy


def rotation_3d(n: int, angle: float = 0.3) -> numpy.ndarray:
    c, s, h = numpy.cos(angle), numpy.sin(angle), (n - 1) / 2
    m = numpy.zeros((3, 4))
    m[0, 0] = 1.0
    m[1:, 1:3] = [[c, s], [-s, c]]
    m[1:, 3] = [h - c * h - s * h, h + s * h - c * h]
    return m
