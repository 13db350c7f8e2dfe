"""One comparison for the tests that say two paths give the same bits."""

import numpy as np


def assert_same_bits(first, second) -> None:
    """Each pair of `first` and `second` is equal: arrays in dtype, shape, strides and bytes
    (NaN payloads and the sign of zero included), None with None, anything else by ==."""
    for a, b in zip(first, second, strict=True):
        if a is None or b is None:
            assert a is None and b is None
        elif isinstance(a, np.ndarray):
            assert a.dtype == b.dtype and a.shape == b.shape and a.strides == b.strides
            assert a.tobytes() == b.tobytes()
        else:
            assert a == b
