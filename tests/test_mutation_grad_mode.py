"""Grad-mode switches restore exactly the mode they found, as bools (found by mutation testing).

Each scenario records `is_grad_enabled()` at each step; the expected list is PyTorch's, and the
cross-check runs the same scenario on PyTorch when it is installed.
"""

from __future__ import annotations

import pytest

import retrograd


def _nested_switches(torch):
    seen = []
    with torch.no_grad():
        with torch.no_grad():
            seen.append(torch.is_grad_enabled())
        seen.append(torch.is_grad_enabled())
        with torch.enable_grad():
            seen.append(torch.is_grad_enabled())
        seen.append(torch.is_grad_enabled())
        with torch.set_grad_enabled(True):
            seen.append(torch.is_grad_enabled())
        seen.append(torch.is_grad_enabled())
    seen.append(torch.is_grad_enabled())
    with torch.enable_grad():
        seen.append(torch.is_grad_enabled())
    seen.append(torch.is_grad_enabled())
    return seen


NESTED = [False, False, True, False, True, False, True, True, True]


def _decorated(torch):
    @torch.set_grad_enabled(True)
    def enabled():
        return torch.is_grad_enabled()

    @torch.set_grad_enabled(False)
    def disabled():
        return torch.is_grad_enabled()

    @torch.enable_grad()
    def enabling():
        return torch.is_grad_enabled()

    seen = [enabled(), disabled(), torch.is_grad_enabled()]
    with torch.no_grad():
        seen += [enabled(), enabling(), disabled(), torch.is_grad_enabled()]
    return seen


DECORATED = [True, False, True, True, True, False, False]


def test_nested_switches_restore_the_mode_they_found():
    seen = _nested_switches(retrograd)
    assert seen == NESTED
    assert all(type(mode) is bool for mode in seen)


def test_set_grad_enabled_and_enable_grad_as_decorators_inside_no_grad():
    seen = _decorated(retrograd)
    assert seen == DECORATED
    assert all(type(mode) is bool for mode in seen)


def test_switch_scenarios_match_pytorch():
    real = pytest.importorskip("torch")
    assert _nested_switches(real) == NESTED
    assert _decorated(real) == DECORATED
