"""A process-wide count kept in front of thread-local state.

Reading an attribute of a `threading.local` costs about twenty reads of a plain one, and the
op runner asks on every op whether vmap, forward mode, no_grad or inference mode is on in this
thread. Each of these keeps a `ProcessWideCount` of the threads (or levels) where it is on:
while the count is 0 the answer is "off" in every thread, and the thread-local state is read
only when the count says it may be on (`count and state.flag`).
"""

from __future__ import annotations

import threading

__all__ = ["ProcessWideCount", "entry_detours"]


class ProcessWideCount:
    """A count shared by all threads: a plain attribute, cheap to read; changed under a lock.
    A count made `part_of` another changes that one too, so one read answers for several."""

    __slots__ = ("count", "lock", "part_of")

    def __init__(self, part_of: ProcessWideCount | None = None):
        self.count = 0
        self.lock = threading.Lock()
        self.part_of = part_of

    def add(self, change: int) -> None:
        lock = self.lock
        lock.acquire()  # (not `with`: a third of the cost, for no_grad blocks and backward passes)
        try:
            self.count += change
        finally:
            lock.release()
        if self.part_of is not None:
            self.part_of.add(change)


# Raised while any state is on that sends every op's direct entry the long way (an open vmap
# level, an open dual level, a watching profiler: Note [Direct entries], ops/_recording.py),
# so an entry reads one count where it would read three.
entry_detours = ProcessWideCount()
