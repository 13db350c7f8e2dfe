"""Anomaly detection: creation tracebacks, NaN gradients, and (beyond PyTorch) NaN forwards."""

from __future__ import annotations

import warnings

import pytest

import retrograd as torch
from retrograd.autograd import Function

pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")


def _nan_gradient_graph():
    x = torch.tensor([0.0, 1.0], requires_grad=True)
    y = x.sqrt() * 0  # d sqrt / dx at 0 is inf; inf * 0 is nan
    return y.sum()


def test_detect_anomaly_warns_when_enabled():
    enabled = pytest.warns(UserWarning, match="Anomaly Detection has been enabled")
    with enabled, torch.autograd.detect_anomaly():
        assert torch.autograd.is_anomaly_enabled()
    assert not torch.autograd.is_anomaly_enabled()


def test_nan_gradient_names_the_node_and_attaches_where_it_was_created():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with torch.autograd.detect_anomaly():
            loss = _nan_gradient_graph()
            expected = r"Function 'SqrtBackward0' returned nan values in its 0th output\."
            with pytest.raises(RuntimeError, match=expected) as error:
                loss.backward()
    notes = "".join(error.value.__notes__)
    assert "Traceback of forward call that caused the error" in notes
    assert "_nan_gradient_graph" in notes and "x.sqrt()" in notes


def test_the_origin_is_also_given_as_a_warning():
    with torch.autograd.set_detect_anomaly(True):
        loss = _nan_gradient_graph()
        with pytest.warns(UserWarning, match="Error detected in SqrtBackward0"), pytest.raises(RuntimeError):
            loss.backward()


def test_without_anomaly_mode_nan_gradients_pass_silently():
    loss = _nan_gradient_graph()
    loss.backward()


def test_check_nan_false_records_stacks_only():
    with torch.autograd.set_detect_anomaly(True, check_nan=False):
        _nan_gradient_graph().backward()
        assert not torch.autograd.anomaly.is_anomaly_check_nan_enabled()


def test_errors_from_custom_backward_get_the_creation_stack():
    class Broken(Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, grad):
            raise ValueError("broken backward")

    with torch.autograd.set_detect_anomaly(True):
        y = Broken.apply(torch.ones(2, requires_grad=True))
        with pytest.warns(UserWarning), pytest.raises(ValueError, match="broken backward") as error:
            y.sum().backward()
    assert "Broken.apply" in "".join(error.value.__notes__)


def test_set_detect_anomaly_restores_as_a_context():
    with torch.autograd.set_detect_anomaly(True):
        assert torch.autograd.is_anomaly_enabled()
    assert not torch.autograd.is_anomaly_enabled()


def test_forward_check_names_the_first_op_that_made_a_nan():
    x = torch.tensor([-1.0, 1.0], requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with torch.autograd.detect_anomaly(check_forward=True):
            doubled = x * 2
            expected = (
                r"Function 'LogBackward0' produced nan values in its 0th output during the forward "
                r"pass \(its inputs were all finite"
            )
            with pytest.raises(RuntimeError, match=expected) as error:
                doubled.log()
    assert "doubled.log()" in "".join(error.value.__notes__)


def test_forward_check_flags_infinities_and_propagation():
    x = torch.tensor([0.0, 1.0], requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with torch.autograd.set_detect_anomaly(True, check_forward=True):
            with pytest.raises(RuntimeError, match="produced inf values"):
                x.log()
            with torch.no_grad():
                bad = x.log()
            with pytest.raises(RuntimeError, match="some of its inputs were already not finite"):
                x * bad


def test_nan_message_matches_pytorch():
    real = pytest.importorskip("torch")

    def message(m):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with m.autograd.detect_anomaly():
                x = m.tensor([0.0, 1.0], requires_grad=True)
                loss = (x.sqrt() * 0).sum()
                with pytest.raises(RuntimeError) as error:
                    loss.backward()
        return str(error.value)

    assert message(torch) == message(real)
