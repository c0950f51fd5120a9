"""The registry of host memory prepared for device copies (copy optimize): the
prepared ranges, their states, and the copies in flight on each.

Plain Python, no CUDA: :mod:`imagearray.copies.hostmem` holds the one registry and
runs the driver calls; the copy code tells it, through :func:`hold_host_ranges` and
:func:`end_host_copy` there, which ranges a copy being enqueued reads or writes.

Why copies hold ranges. A copy from or into prepared (page-locked) memory is
asynchronous: the driver hands the copy engine the range's device mapping, which
``cuMemHostUnregister`` removes. If a release unregistered the range between the
enqueue and the moment the copy's event is known to the registry, the copy engine
would fault when it runs (``CUDA_ERROR_LAUNCH_FAILED``, which is sticky: the context
is lost). So a copy holds every prepared range it touches from before it is enqueued
until its event is recorded there, and a release waits until no copy holds the range,
then for the events, and only then unregisters. A copy touching a range that is
being released waits until the release is done (the range is then pageable). The
other way round, a prepare waits for the copies being enqueued on those bytes while
they were pageable: the driver could find them registered half-way.
"""

from __future__ import annotations

import bisect
import collections
import dataclasses
import threading
from typing import Any

__all__ = ["Entry", "Registry", "REGISTERING", "READY", "RELEASING"]

# How many released start addresses are remembered, to tell "released twice" from
# "never prepared" in the error raised by a second release.
_RELEASED_MEMORY = 4096

# Life of a registry entry. Driver calls happen outside the registry lock, so a
# range is reserved while it is being registered or unregistered; only a READY
# range counts as prepared.
REGISTERING, READY, RELEASING = "registering", "ready", "releasing"


@dataclasses.dataclass(eq=False)
class Entry:
    address: int
    nbytes: int
    device: int
    source: str
    owner: Any  # kept here too, independently of what the registration holds
    handle: Any = None  # HostRegistration: .free()
    state: str = REGISTERING
    memory: Any = None  # weakref to the object owning the memory, where it takes one
    pending: list = dataclasses.field(default_factory=list)  # events of copies in flight
    holds: int = 0  # copies being enqueued on the range (their events not noted yet)

    @property
    def ready(self) -> bool:
        return self.state == READY

    @property
    def end(self) -> int:
        return self.address + self.nbytes

    def note(self, event: Any) -> None:
        """Keep ``event`` (a copy's, recorded after it) until a release waits for it;
        finished ones are dropped as new ones come."""
        pending = self.pending
        if pending and pending[-1] is event:
            return  # noted already (the copy's own bookkeeping, then note_copy)
        pending[:] = [e for e in pending if not e.done]
        pending.append(event)

    def describe(self) -> str:
        return (
            f"[{self.address:#x}, {self.end:#x}) ({self.nbytes} B, a {self.source} prepared "
            f"on device {self.device})"
        )


class Registry:
    """Prepared ranges, disjoint, sorted by start address. All access under ``lock``.

    A range being registered or unregistered is in the registry (it reserves its
    bytes against overlaps) but not ready: it is not reported as prepared. The
    driver calls happen outside the lock, so lookups from copies never wait on them
    (a copy of a range being released waits for that release, see the module's
    docstring). ``changed`` is notified whenever a hold ends or an entry leaves.
    """

    def __init__(self) -> None:
        # Reentrant: a copy's event bookkeeping (note_copy) may run from code that
        # already holds it.
        self.lock = threading.RLock()
        self.changed = threading.Condition(self.lock)
        self.starts: list[int] = []
        self.by_start: dict[int, Entry] = {}
        # start -> (nbytes, weakref to the memory's owner or None), recently released
        self.released: collections.OrderedDict[int, tuple] = collections.OrderedDict()
        # [start, end) of the copies being enqueued on memory that was not (wholly)
        # one prepared range when they began: a prepare of those bytes waits for them.
        self.loose: list[tuple[int, int]] = []
        # threads in changed.wait(): a hold's end notifies only when there is one (every
        # copy of host memory ends a hold, and notify_all costs it a microsecond)
        self.waiters = 0

    def _wait(self) -> None:
        """``changed.wait()``, counted in ``waiters`` (the lock held, as for wait)."""
        self.waiters += 1
        try:
            self.changed.wait()
        finally:
            self.waiters -= 1

    def overlapping(self, address: int, nbytes: int) -> Entry | None:
        i = bisect.bisect_left(self.starts, address + nbytes)  # entries starting before the end
        if i == 0:
            return None
        e = self.by_start[self.starts[i - 1]]
        # Ranges are disjoint and sorted, so only the last one starting before our
        # end can reach into us.
        return e if e.end > address else None

    def touching(self, address: int, nbytes: int) -> list[Entry]:
        """Every range (any state) sharing a byte with ``[address, address + nbytes)``."""
        out = []
        i = bisect.bisect_left(self.starts, address + nbytes)
        while i > 0:
            i -= 1
            e = self.by_start[self.starts[i]]
            if e.end <= address:
                break  # disjoint and sorted: none before this one reaches us
            out.append(e)
        return out

    def containing(self, address: int, nbytes: int) -> Entry | None:
        """The range (ready or not) holding all of ``[address, address + nbytes)``."""
        i = bisect.bisect_right(self.starts, address)
        if i == 0:
            return None
        e = self.by_start[self.starts[i - 1]]
        return e if address + max(nbytes, 1) <= e.end else None

    def add(self, e: Entry) -> None:
        bisect.insort(self.starts, e.address)
        self.by_start[e.address] = e
        for start in [s for s in self.released if e.address <= s < e.end]:
            del self.released[start]

    def remove(self, e: Entry, *, released: bool = True) -> None:
        with self.lock:
            del self.by_start[e.address]
            del self.starts[bisect.bisect_left(self.starts, e.address)]
            self.changed.notify_all()  # copies waiting for this range's release go on
            if not released:  # a registration that failed: nothing was prepared
                return
            self.released[e.address] = (e.nbytes, e.memory)
            self.released.move_to_end(e.address)
            while len(self.released) > _RELEASED_MEMORY:
                self.released.popitem(last=False)

    def entries(self) -> list[Entry]:
        """The ready ranges, by address."""
        return [e for e in (self.by_start[s] for s in self.starts) if e.ready]

    def hold(self, spans: tuple) -> tuple:
        """Count a copy on host memory ``spans`` ((address, nbytes) pairs) as being
        enqueued: on every range it touches (registering or ready), and, for a span
        not inside one range (pageable memory, in part or whole), as a loose span
        that a prepare of those bytes waits for. First waits (releasing the lock)
        while a range it touches is being released. Returns what :meth:`unhold`
        takes."""
        with self.lock:
            while True:
                touched: list[Entry] = []
                loose = []
                for a, n in spans:
                    if n <= 0:
                        continue
                    t = self.touching(a, n)
                    touched += t
                    if not (len(t) == 1 and t[0].address <= a and a + n <= t[0].end):
                        loose.append((a, a + n))
                if all(e.state != RELEASING for e in touched):
                    break
                self._wait()
            for e in touched:
                e.holds += 1
            self.loose += loose
            return touched, loose

    def unhold(self, held: tuple, event: Any) -> None:
        """End :meth:`hold`: ``event`` (recorded after the copy, or None when the
        enqueue failed) is kept on each range for its release to wait for."""
        touched, loose = held
        with self.lock:
            for e in touched:
                e.holds -= 1
                if event is not None:
                    e.note(event)
            for span in loose:
                self.loose.remove(span)
            if self.waiters:
                self.changed.notify_all()

    def wait_unheld(self, e: Entry) -> list:
        """Wait (releasing the lock) until no copy holds ``e``; then the events of
        its copies in flight."""
        with self.lock:
            while e.holds:
                self._wait()
            return list(e.pending)

    def wait_no_loose(self, address: int, nbytes: int) -> None:
        """Wait (releasing the lock) until no copy that saw ``[address, address +
        nbytes)`` pageable is still being enqueued: once its enqueue returns, a copy
        of pageable memory no longer reads or writes it (the driver stages it, or
        finishes first), but while it is being enqueued the driver may find the
        range registered and hand the copy engine its mapping."""
        end = address + nbytes
        with self.lock:
            while any(a < end and address < b for a, b in self.loose):
                self._wait()
