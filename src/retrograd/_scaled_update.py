"""`target = combine(target, operand * scale)` in place, without a temporary as large as the target.

Note [Scaled updates by blocks]
    `p.add_(g, alpha=-lr)` and SGD's `p -= lr * g` are the update of every training step.
    NumPy has no fused multiply-add, so the plain way writes `g * lr` into a new array as
    large as the parameter and then combines it in. For a large parameter that temporary is
    fresh memory at every step: glibc's allocator maps it from the OS and unmaps it when it
    is freed (a page fault for each 4 KiB, which costs more than the arithmetic on them), and
    it pushes the parameter and its gradient out of the cache meanwhile. Done a block at a
    time through one buffer of _BLOCK_BYTES, the same two operations run on each element in
    the same order, so the result has the same bits; in w3's step (benchmarks/), whose
    largest parameter is (784, 512) float32, the update took 0.6 ms instead of 1.4 and the
    step about 10% less. Arrays under two blocks, other layouts, other dtypes, a scale that is
    not a Python number (a float64 NumPy scalar would promote the product of float32
    operands) and operands that overlap the target partly take the plain way: for them the
    temporary is small, or the blocks would not compute the same values.
"""

from __future__ import annotations

import numpy as np

__all__ = ["combine_scaled_into"]

_BLOCK_BYTES = 64 * 1024  # small enough for the buffer to stay in the L2 cache beside its operands


def combine_scaled_into(combine: np.ufunc, target: np.ndarray, operand, scale) -> None:
    """`combine(target, operand * scale, out=target)`: the same values, computed by blocks
    where the operand is an array of the target's dtype, shape and C order (see above)."""
    block = _BLOCK_BYTES // target.itemsize
    if (type(operand) is not np.ndarray or target.size < 2 * block or type(scale) not in (float, int)
            or operand.dtype != target.dtype
            or operand.shape != target.shape or not (target.flags.c_contiguous and operand.flags.c_contiguous)
            or (operand is not target and np.may_share_memory(target, operand))):
        combine(target, np.multiply(operand, scale), out=target)
        return
    flat_target, flat_operand = target.reshape(-1), operand.reshape(-1)
    buffer = np.empty(block, target.dtype)
    size = target.size
    for start in range(0, size, block):
        stop = min(start + block, size)
        scaled = buffer[: stop - start]
        np.multiply(flat_operand[start:stop], scale, out=scaled)
        part = flat_target[start:stop]
        combine(part, scaled, out=part)
