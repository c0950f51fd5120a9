"""Releasing (and preparing) host memory while a copy on it is being enqueued, without
a GPU: a fake backend stands in for cuMemHostRegister and fake events for the copies'.

The issue: a copy from prepared memory is asynchronous, and its event reached the
registry only after the enqueue returned. A release on another thread in between
unregistered the range under the queued copy, whose copy engine then faulted
(CUDA_ERROR_LAUNCH_FAILED, sticky). Now a copy holds the ranges it touches from before
the enqueue until its event is kept (hostmem.hold_host_ranges / end_host_copy, called
by copies.execute), and a prepare waits for copies that saw the bytes pageable.
"""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import imagearray.copies.hostmem as co
from imagearray.copies import executor, hostregistry
from imagearray.copies.plan import HOST, IMAGE, KIND_CODE, CopyPlan

WAIT = 10  # seconds any gate or join may take before the test fails (never hangs)


class Registration:
    def __init__(self, log, address):
        self.log, self.address, self.alive = log, address, True
        self.unregistered_at = None

    def free(self):
        self.alive = False
        self.unregistered_at = len(self.log)
        self.log.append(("unregister", self.address))


class Backend:
    def __init__(self):
        self.log = []
        self.registrations = []

    def resolve_device(self, d):
        return 0

    def register(self, owner, address, nbytes, device):
        self.log.append(("register", address))
        r = Registration(self.log, address)
        self.registrations.append(r)
        return r


class Event:
    """A copy's event: synchronize() is logged, so its order with unregister shows."""

    def __init__(self, log, name):
        self.log, self.name, self.done = log, name, False
        self.synchronized_at = None

    def synchronize(self):
        if self.synchronized_at is None:
            self.synchronized_at = len(self.log)
        self.log.append(("synchronize", self.name))
        self.done = True


@pytest.fixture
def fake(monkeypatch):
    backend = Backend()
    monkeypatch.setattr(co, "_backend", backend)
    monkeypatch.setattr(co, "_registry", co._Registry())
    yield backend
    assert co.prepared_host_ranges() == []
    assert [r for r in backend.registrations if r.alive] == []
    assert co._registry.loose == []


def start(fn, *args):
    t = threading.Thread(target=fn, args=args, daemon=True)
    t.start()
    return t


def join(t):
    t.join(WAIT)
    assert not t.is_alive(), "a thread did not finish"


def blocked(t, seconds=0.05):
    """True when thread ``t`` is still running ``seconds`` from now."""
    t.join(seconds)
    return t.is_alive()


# ------------------------------------------------------------------ the protocol


def test_release_waits_for_a_copy_being_enqueued(fake):
    a = np.zeros(4096, np.uint8)
    co.prepare_for_device_copy(a)
    held = co.hold_host_ranges(((a.ctypes.data, 1024),))  # the copy is being enqueued
    t = start(co.release_from_device_copy, a)
    assert blocked(t), "release went on while a copy of the range was being enqueued"
    assert ("unregister", a.ctypes.data) not in fake.log
    ev = Event(fake.log, "copy")
    co.end_host_copy(held, ev)  # enqueued: its event is known
    join(t)
    assert fake.log[-2:] == [("synchronize", "copy"), ("unregister", a.ctypes.data)]


def test_a_failed_enqueue_lets_the_release_go_on(fake):
    a = np.zeros(4096, np.uint8)
    co.prepare_for_device_copy(a)
    held = co.hold_host_ranges(((a.ctypes.data, a.nbytes),))
    t = start(co.release_from_device_copy, a)
    assert blocked(t)
    co.end_host_copy(held, None)
    join(t)
    assert fake.log[-1] == ("unregister", a.ctypes.data)
    assert not any(e[0] == "synchronize" for e in fake.log)


def test_a_copy_waits_for_a_release_in_progress(fake, monkeypatch):
    a = np.zeros(4096, np.uint8)
    co.prepare_for_device_copy(a)
    other = co.hold_host_ranges(((a.ctypes.data, 16),))  # keeps the release in progress
    rel = start(co.release_from_device_copy, a)
    assert blocked(rel)
    got = []
    copy = start(lambda: got.append(co.hold_host_ranges(((a.ctypes.data + 100, 8),))))
    assert blocked(copy), "a copy was enqueued on a range being released"
    co.end_host_copy(other, Event(fake.log, "first"))
    join(rel)
    join(copy)
    # the range is pageable now: the copy holds no range, it is a loose span
    (held,) = got
    assert held[0] == [] and held[1] == [(a.ctypes.data + 100, a.ctypes.data + 108)]
    co.end_host_copy(held, Event(fake.log, "second"))
    assert ("synchronize", "second") not in fake.log


def test_prepare_waits_for_a_copy_that_saw_the_bytes_pageable(fake):
    a = np.zeros(4096, np.uint8)
    held = co.hold_host_ranges(((a.ctypes.data + 10, 100),))
    assert held == ([], [(a.ctypes.data + 10, a.ctypes.data + 110)])
    t = start(co.prepare_for_device_copy, a)
    assert blocked(t), "the range was registered under a copy being enqueued"
    assert fake.log == []
    # the range is reserved meanwhile (not prepared, no second prepare of it)
    assert co.prepared_host_ranges() == []
    with pytest.raises(co.HostMemoryOverlapError, match="another thread is preparing"):
        co.prepare_for_device_copy(a[:100])
    co.end_host_copy(held, None)
    join(t)
    assert co.is_prepared(a.ctypes.data, a.nbytes)
    co.release_from_device_copy(a)


def test_prepare_of_other_bytes_does_not_wait(fake):
    a = np.zeros(8192, np.uint8)
    held = co.hold_host_ranges(((a.ctypes.data, 100),))
    co.prepare_for_device_copy(a[4096:])  # returns at once
    co.release_from_device_copy(a[4096:])
    co.end_host_copy(held, None)


def test_a_copy_started_while_registering_holds_the_new_range(fake):
    a = np.zeros(4096, np.uint8)
    gate, started = threading.Event(), threading.Event()
    register = fake.register

    def slow_register(*args):
        started.set()
        assert gate.wait(WAIT)
        return register(*args)

    fake.register = slow_register
    t = start(co.prepare_for_device_copy, a)
    assert started.wait(WAIT)
    held = co.hold_host_ranges(((a.ctypes.data, 64),))  # the driver may see it pinned
    (entry,) = held[0]
    assert entry.state == hostregistry.REGISTERING and held[1] == []
    gate.set()
    join(t)
    rel = start(co.release_from_device_copy, a)
    assert blocked(rel)
    co.end_host_copy(held, Event(fake.log, "copy"))
    join(rel)
    assert fake.log[-2:] == [("synchronize", "copy"), ("unregister", a.ctypes.data)]


def test_spans_across_two_ranges_hold_both(fake):
    a = np.zeros(8192, np.uint8)
    co.prepare_for_device_copy(a[:4096])
    co.prepare_for_device_copy(a[4096:])
    held = co.hold_host_ranges(((a.ctypes.data + 4000, 200),))
    assert sorted(e.address for e in held[0]) == [a.ctypes.data, a.ctypes.data + 4096]
    assert held[1] == [(a.ctypes.data + 4000, a.ctypes.data + 4200)]  # not inside one
    ev = Event(fake.log, "copy")
    co.end_host_copy(held, ev)
    co.release_from_device_copy(a[:4096])
    co.release_from_device_copy(a[4096:])
    # each release waited for the copy before unregistering its range
    assert [e[0] for e in fake.log[-4:]] == ["synchronize", "unregister"] * 2


def test_note_copy_after_the_hold_keeps_the_event_once(fake):
    a = np.zeros(4096, np.uint8)
    co.prepare_for_device_copy(a)
    held = co.hold_host_ranges(((a.ctypes.data, a.nbytes),))
    ev = Event(fake.log, "copy")
    co.end_host_copy(held, ev)
    assert co.note_copy(a.ctypes.data, a.nbytes, ev)  # the copy path notes it too
    assert co._registry.by_start[a.ctypes.data].pending == [ev]
    co.release_from_device_copy(a)


# ------------------------------------------------------------------ through execute()


def _host_to_image_plan(address, row_bytes=256, rows=4):
    host = (KIND_CODE[HOST], address, row_bytes, rows, 0, 0, 0)
    image = (KIND_CODE[IMAGE], 0xA000, 0, 0, 0, 0, 0)
    return CopyPlan(host, image, (row_bytes, rows, 1), None, 0)


def test_execute_holds_the_host_ranges_across_the_enqueue(fake, monkeypatch):
    """execute() of a host -> image plan: a release started while the driver call
    runs unregisters only after the copy's event is known, and synchronizes it."""
    a = np.zeros(4096, np.uint8)
    co.prepare_for_device_copy(a)
    releases = []

    def enqueue(device, fn, plan, stream, queue_device):
        # another thread releases while this copy is being enqueued
        releases.append(start(co.release_from_device_copy, a))
        assert blocked(releases[0])
        assert ("unregister", a.ctypes.data) not in fake.log
        return Event(fake.log, "copy")

    monkeypatch.setattr(executor, "call_on_device", enqueue)
    event = executor.execute(_host_to_image_plan(a.ctypes.data), 0, 0)
    join(releases[0])
    assert event.done
    assert fake.log[-2:] == [("synchronize", "copy"), ("unregister", a.ctypes.data)]


def test_execute_ends_the_hold_when_the_enqueue_fails(fake, monkeypatch):
    a = np.zeros(4096, np.uint8)
    co.prepare_for_device_copy(a)

    def enqueue(*args):
        raise RuntimeError("driver refused")

    monkeypatch.setattr(executor, "call_on_device", enqueue)
    with pytest.raises(RuntimeError, match="refused"):
        executor.execute(_host_to_image_plan(a.ctypes.data), 0, 0)
    assert co._registry.by_start[a.ctypes.data].holds == 0
    co.release_from_device_copy(a)  # does not wait


def test_execute_without_host_sides_takes_no_hold(fake, monkeypatch):
    calls = []
    monkeypatch.setattr(co._registry, "hold", lambda spans: calls.append(spans))
    monkeypatch.setattr(executor, "call_on_device", lambda *a: "event")
    image = (KIND_CODE[IMAGE], 0xA000, 0, 0, 0, 0, 0)
    assert executor.execute(CopyPlan(image, image, (16, 4, 1), 0, 0), 0, 0) == "event"
    assert calls == []


def test_the_two_thread_loop_of_the_issue(fake, monkeypatch):
    """One thread copies host -> image -> host (each enqueue takes a while), another
    prepares and releases the same buffer: every unregister comes after the
    synchronize of each copy enqueued while the range was registered."""
    a = np.zeros(4096, np.uint8)
    in_flight = []  # (event, registration the copy saw when it was enqueued)
    errors = []

    def enqueue(device, fn, plan, stream, queue_device):
        with co._registry.lock:
            entry = co._registry.containing(a.ctypes.data, 1)
            registration = entry.handle if entry is not None else None
        time.sleep(0.0002)  # the driver call takes a while
        ev = Event(fake.log, len(in_flight))
        in_flight.append((ev, registration))
        return ev

    monkeypatch.setattr(executor, "call_on_device", enqueue)
    plan_in = _host_to_image_plan(a.ctypes.data)
    plan_out = CopyPlan(plan_in.dst, plan_in.src, plan_in.extent, 0, None)

    def copier():
        for _ in range(200):
            executor.execute(plan_in, 0, 0)
            executor.execute(plan_out, 0, 0)

    def preparer():
        try:
            for _ in range(200):
                co.prepare_for_device_copy(a)
                time.sleep(0.0005)  # prepared for a while: copies run on it
                co.release_from_device_copy(a)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [start(copier), start(preparer)]
    for t in threads:
        join(t)
    assert errors == []
    seen = [(ev, r) for ev, r in in_flight if r is not None]
    assert seen, "no copy ran while the buffer was prepared: the test proves nothing"
    for ev, registration in seen:
        assert ev.synchronized_at is not None, f"copy {ev.name} was never waited for"
        assert ev.synchronized_at < registration.unregistered_at, (
            f"copy {ev.name} was still in flight when its registration was released"
        )


# ------------------------------------------------------------------ pure parts


def test_host_spans_of_a_plan():
    # a 3-slice box of 10-byte rows out of a host array of 4 rows x 32 bytes per slice,
    # starting at byte 8 of row 1 of slice 2
    host = (KIND_CODE[HOST], 0x1000, 32, 4, 8, 1, 2)
    image = (KIND_CODE[IMAGE], 0xA000, 0, 0, 0, 0, 0)
    plan = CopyPlan(host, image, (10, 2, 3), None, 0)
    start_ = 0x1000 + (2 * 4 + 1) * 32 + 8
    last = 0x1000 + ((2 + 2) * 4 + 1 + 1) * 32 + 8 + 10  # one past the last byte
    assert executor._host_spans(plan) == ((start_, last - start_),)
    assert executor._host_spans(CopyPlan(image, host, (10, 2, 3), 0, None)) == (
        (start_, last - start_),
    )
    assert executor._host_spans(CopyPlan(image, image, (10, 2, 3), 0, 0)) == ()


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 300), st.integers(1, 40)), max_size=12),
    st.integers(0, 340),
    st.integers(1, 60),
)
def test_touching_matches_brute_force(ranges, address, nbytes):
    reg = hostregistry.Registry()
    taken: list[tuple[int, int]] = []
    for a, n in ranges:
        if reg.overlapping(a, n) is None:
            reg.add(hostregistry.Entry(a, n, 0, "pointer", None))
            taken.append((a, a + n))
    got = sorted(e.address for e in reg.touching(address, nbytes))
    want = sorted(a for a, b in taken if a < address + nbytes and address < b)
    assert got == want
