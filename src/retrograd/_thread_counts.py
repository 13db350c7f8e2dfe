"""A process-wide count kept in front of thread-local state.

Reading an attribute of a `threading.local` costs about twenty reads of a plain one, and the
op runner asks on every op whether vmap, forward mode, no_grad or inference mode is on in this
thread. Each of these keeps a `ProcessWideCount` of the threads (or levels) where it is on:
while the count is 0 the answer is "off" in every thread, and the thread-local state is read
only when the count says it may be on (`count and state.flag`).
"""

from __future__ import annotations

import threading

__all__ = ["ProcessWideCount"]


class ProcessWideCount:
    """A count shared by all threads: a plain attribute, cheap to read; changed under a lock."""

    __slots__ = ("count", "lock")

    def __init__(self):
        self.count = 0
        self.lock = threading.Lock()

    def add(self, change: int) -> None:
        with self.lock:
            self.count += change
