"""PyTorch for the cross-checks, when it is installed.

`torch` is the module, or None where PyTorch is missing (or hidden by `pytest --no-torch`).
`needs_torch` marks one test that compares with it: without PyTorch that test is skipped,
with the reason, and counted in the run's closing summary (conftest.py), while the tests of
the same module that need no PyTorch still run. Prefer it to a module-level
`pytest.importorskip("torch")`, which skips the whole module.
"""

import pytest

try:
    import torch
except ImportError as error:
    torch = None
    _REASON = f"could not import 'torch': {error}"
else:
    _REASON = "PyTorch is installed"

needs_torch = pytest.mark.skipif(torch is None, reason=_REASON)

# (op, position among the differentiable inputs) whose PyTorch gradient is wrong, with the reason:
# those gradients are checked against finite differences instead of PyTorch.
# Ops whose values PyTorch computes less accurately than retrograd: op name -> (the relative
# tolerance that covers PyTorch's error, why).
PYTORCH_VALUE_IS_APPROXIMATE = {
    "polygamma": (1e-8, "PyTorch's trigamma (polygamma(1, x)) truncates its asymptotic series at "
                        "x + 6, about 1e-9 relative; retrograd's is exact to rounding "
                        "(test_special_functions::test_trigamma_is_exact_where_pytorchs_truncates)"),
}

PYTORCH_GRADIENT_IS_WRONG = {
    ("as_strided_scatter", 0): "PyTorch 2.13 gives the input the incoming gradient on the window, where "
                               "it has none (its own gradcheck fails): Note [as_strided_scatter's gradient]",
}
