"""The workloads w1..w9 (issues 7 and 11), and the depth scan of the w4 chain."""

from __future__ import annotations

from . import chain, cnn, mlp, second_order
from ._base import UNIT_SCALE, Unavailable, Workload, as_array

FULL_DEPTHS = (1_000, 10_000, 100_000)
QUICK_DEPTHS = (100, 1_000)


def all_workloads(quick: bool, depth_scan: bool = True) -> list[Workload]:
    """w1..w9 in order, then (optionally) the per-op cost of the chain at several depths."""
    workloads = [
        chain.w1(),
        mlp.w2(),
        mlp.w3(),
        chain.w4(),
        second_order.w5(),
        chain.w6(),
        cnn.w7(),
        *second_order.w8(),
        chain.w9(),
    ]
    if depth_scan:
        workloads += chain.depth_scan(QUICK_DEPTHS if quick else FULL_DEPTHS)
    return workloads


__all__ = ["UNIT_SCALE", "Unavailable", "Workload", "all_workloads", "as_array"]
