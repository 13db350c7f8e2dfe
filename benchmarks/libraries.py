"""The libraries the suite compares, found by whether they are installed.

Each library is benchmarked through its own idiomatic API; `numpy` is the hand-written
forward and backward pass that every other library's gradient is checked against and
whose time is the floor.
"""

from __future__ import annotations

import dataclasses
import importlib
import importlib.metadata
import importlib.util
from types import ModuleType


@dataclasses.dataclass(frozen=True)
class Library:
    name: str  # the key workloads use for their implementations
    label: str  # what the report prints
    module: str  # what to import
    distribution: str  # whose version to report

    def installed(self) -> bool:
        return importlib.util.find_spec(self.module) is not None

    def load(self, threads: int) -> ModuleType:
        module = importlib.import_module(self.module)
        if self.name == "torch":
            module.set_num_threads(threads)
        return module

    def version(self) -> str:
        if self.name == "retrograd":
            return importlib.import_module("retrograd").__version__ + " (this checkout)"
        try:
            return importlib.metadata.version(self.distribution)
        except importlib.metadata.PackageNotFoundError:
            return "unknown"


LIBRARIES = (
    Library("numpy", "NumPy (hand-written)", "numpy", "numpy"),
    Library("retrograd", "retrograd", "retrograd", "retrograd"),
    Library("torch", "PyTorch", "torch", "torch"),
    Library("autograd", "HIPS autograd", "autograd", "autograd"),
    Library("mygrad", "MyGrad", "mygrad", "mygrad"),
    Library("micrograd", "micrograd", "micrograd", "micrograd"),
)

BY_NAME = {library.name: library for library in LIBRARIES}


def select(names: list[str] | None) -> list[Library]:
    """The requested libraries (all by default) that are installed, in the report's order."""
    if names:
        unknown = [name for name in names if name not in BY_NAME]
        if unknown:
            raise SystemExit(f"unknown libraries {unknown}; choose from {list(BY_NAME)}")
    wanted = names or list(BY_NAME)
    return [library for library in LIBRARIES if library.name in wanted and library.installed()]
