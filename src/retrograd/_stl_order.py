"""The order of PyTorch's CPU `topk` among equal values, replayed.

PyTorch's CPU top-k sorts (value, index) pairs with the C++ standard library of its build
(libstdc++): `std::partial_sort` when k * 64 <= n, otherwise `std::nth_element` to place the
k-th largest and `std::sort` of the k - 1 before it, comparing values only (NaN first, then
larger first). Distinct values come out largest first whatever the algorithm; equal values
come out in the order these algorithms leave them. `topk_order` runs the same algorithms
(heap select and heap sort; introselect and introsort with median-of-three pivots and
insertion sort below 16 elements) on Python lists, so ties come out as PyTorch's do. It is
Python-speed, for the rare rows where ties decide the answer (multinomial without
replacement over zero weights).
"""

from __future__ import annotations

import math

__all__ = ["topk_order"]


def topk_order(values: list[float], k: int) -> list[int]:
    """Indices of the k largest `values`, in the order PyTorch's CPU topk returns them."""
    items = [(v, i) for i, v in enumerate(values)]
    n = len(items)

    def before(x, y):
        xv, yv = x[0], y[0]
        return (math.isnan(xv) and not math.isnan(yv)) or xv > yv

    if k * 64 <= n:
        _partial_sort(items, 0, k, n, before)
    else:
        _nth_element(items, 0, k - 1, n, before)
        _sort(items, 0, k - 1, before)
    return [i for _, i in items[:k]]


def _adjust_heap(a, first, hole, length, value, before):
    top = hole
    child = hole
    while child < (length - 1) // 2:
        child = 2 * (child + 1)
        if before(a[first + child], a[first + child - 1]):
            child -= 1
        a[first + hole] = a[first + child]
        hole = child
    if length % 2 == 0 and child == (length - 2) // 2:
        child = 2 * (child + 1)
        a[first + hole] = a[first + child - 1]
        hole = child - 1
    parent = (hole - 1) // 2
    while hole > top and before(a[first + parent], value):
        a[first + hole] = a[first + parent]
        hole = parent
        parent = (hole - 1) // 2
    a[first + hole] = value


def _make_heap(a, first, last, before):
    length = last - first
    if length < 2:
        return
    parent = (length - 2) // 2
    while True:
        _adjust_heap(a, first, parent, length, a[first + parent], before)
        if parent == 0:
            return
        parent -= 1


def _pop_heap(a, first, last, result, before):
    value = a[result]
    a[result] = a[first]
    _adjust_heap(a, first, 0, last - first, value, before)


def _heap_select(a, first, middle, last, before):
    _make_heap(a, first, middle, before)
    for i in range(middle, last):
        if before(a[i], a[first]):
            _pop_heap(a, first, middle, i, before)


def _sort_heap(a, first, last, before):
    while last - first > 1:
        last -= 1
        _pop_heap(a, first, last, last, before)


def _partial_sort(a, first, middle, last, before):
    _heap_select(a, first, middle, last, before)
    _sort_heap(a, first, middle, before)


def _move_median_to_first(a, result, x, y, z, before):
    if before(a[x], a[y]):
        if before(a[y], a[z]):
            median = y
        elif before(a[x], a[z]):
            median = z
        else:
            median = x
    elif before(a[x], a[z]):
        median = x
    elif before(a[y], a[z]):
        median = z
    else:
        median = y
    a[result], a[median] = a[median], a[result]


def _unguarded_partition(a, first, last, pivot, before):
    while True:
        while before(a[first], a[pivot]):
            first += 1
        last -= 1
        while before(a[pivot], a[last]):
            last -= 1
        if not first < last:
            return first
        a[first], a[last] = a[last], a[first]
        first += 1


def _partition_pivot(a, first, last, before):
    mid = first + (last - first) // 2
    _move_median_to_first(a, first, first + 1, mid, last - 1, before)
    return _unguarded_partition(a, first + 1, last, first, before)


def _insertion_sort(a, first, last, before):
    if first == last:
        return
    for i in range(first + 1, last):
        value = a[i]
        if before(value, a[first]):
            a[first + 1 : i + 1] = a[first:i]
            a[first] = value
        else:
            _linear_insert(a, i, before)


def _linear_insert(a, last, before):
    value = a[last]
    previous = last - 1
    while before(value, a[previous]):
        a[last] = a[previous]
        last = previous
        previous -= 1
    a[last] = value


def _lg(n):
    return n.bit_length() - 1


def _nth_element(a, first, nth, last, before):
    if first == last or nth == last:
        return
    depth = 2 * _lg(last - first)
    while last - first > 3:
        if depth == 0:
            _heap_select(a, first, nth + 1, last, before)
            a[first], a[nth] = a[nth], a[first]
            return
        depth -= 1
        cut = _partition_pivot(a, first, last, before)
        if cut <= nth:
            first = cut
        else:
            last = cut
    _insertion_sort(a, first, last, before)


def _sort(a, first, last, before):
    if first == last:
        return
    _introsort_loop(a, first, last, 2 * _lg(last - first), before)
    if last - first > 16:
        _insertion_sort(a, first, first + 16, before)
        for i in range(first + 16, last):
            _linear_insert(a, i, before)
    else:
        _insertion_sort(a, first, last, before)


def _introsort_loop(a, first, last, depth, before):
    while last - first > 16:
        if depth == 0:
            _partial_sort(a, first, last, last, before)
            return
        depth -= 1
        cut = _partition_pivot(a, first, last, before)
        _introsort_loop(a, cut, last, depth, before)
        last = cut
