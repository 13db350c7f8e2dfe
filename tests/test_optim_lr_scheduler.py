"""Each learning-rate schedule gives PyTorch's lr at every step."""

import pytest

import retrograd
from crosscheck import needs_torch, torch
from retrograd import nn, optim
from retrograd.optim import lr_scheduler


def _pair(optimizer_name="SGD", groups=1, **optimizer_kwargs):
    optimizer_kwargs.setdefault("lr", 0.1)
    ours = getattr(optim, optimizer_name)(
        [{"params": [nn.Parameter(retrograd.ones(1))]} for _ in range(groups)], **optimizer_kwargs
    )
    theirs = getattr(torch.optim, optimizer_name)(
        [{"params": [torch.nn.Parameter(torch.ones(1))]} for _ in range(groups)], **optimizer_kwargs
    )
    return ours, theirs


SCHEDULES = {
    "StepLR": lambda module, o: module.StepLR(o, step_size=3, gamma=0.5),
    "MultiStepLR": lambda module, o: module.MultiStepLR(o, milestones=[2, 5, 5, 9], gamma=0.3),
    "ExponentialLR": lambda module, o: module.ExponentialLR(o, gamma=0.9),
    "CosineAnnealingLR": lambda module, o: module.CosineAnnealingLR(o, T_max=7, eta_min=0.01),
    "LambdaLR": lambda module, o: module.LambdaLR(o, lambda epoch: 1 / (1 + epoch)),
    "LinearLR": lambda module, o: module.LinearLR(o, start_factor=0.25, total_iters=6),
    "OneCycleLR": lambda module, o: module.OneCycleLR(o, max_lr=1.0, total_steps=25),
    "OneCycleLR-linear-3phase": lambda module, o: module.OneCycleLR(
        o, max_lr=[1.0, 0.5], epochs=5, steps_per_epoch=5, anneal_strategy="linear", three_phase=True
    ),
    "CyclicLR-triangular": lambda module, o: module.CyclicLR(o, base_lr=0.01, max_lr=0.1, step_size_up=3,
                                                           step_size_down=5),
    "CyclicLR-triangular2": lambda module, o: module.CyclicLR(
        o, base_lr=[0.01, 0.02], max_lr=[0.1, 0.3], step_size_up=4, mode="triangular2",
        base_momentum=[0.7, 0.75], max_momentum=[0.9, 0.95],
    ),
    "CyclicLR-exp_range": lambda module, o: module.CyclicLR(o, 0.01, 0.1, step_size_up=2, mode="exp_range",
                                                          gamma=0.9),
    "CyclicLR-scale_fn-iterations": lambda module, o: module.CyclicLR(
        o, 0.01, 0.1, step_size_up=3, scale_fn=lambda x: 1 / (1 + 0.1 * x), scale_mode="iterations"
    ),
    "MultiplicativeLR": lambda module, o: module.MultiplicativeLR(o, lambda epoch: 0.9 + 0.01 * epoch),
    "ConstantLR": lambda module, o: module.ConstantLR(o, factor=0.5, total_iters=4),
    "PolynomialLR": lambda module, o: module.PolynomialLR(o, total_iters=10, power=2.0),
    "CosineAnnealingWarmRestarts": lambda module, o: module.CosineAnnealingWarmRestarts(o, T_0=3, T_mult=2,
                                                                                        eta_min=0.01),
    "ChainedScheduler": lambda module, o: module.ChainedScheduler(
        [module.ConstantLR(o, factor=0.1, total_iters=2), module.ExponentialLR(o, gamma=0.9)]
    ),
    "SequentialLR-constant-polynomial": lambda module, o: module.SequentialLR(
        o, [module.ConstantLR(o, factor=0.5, total_iters=3), module.PolynomialLR(o, total_iters=6)],
        milestones=[5],
    ),
    "SequentialLR": lambda module, o: module.SequentialLR(
        o,
        [module.LinearLR(o, start_factor=0.1, total_iters=4), module.CosineAnnealingLR(o, T_max=10),
         module.StepLR(o, step_size=2)],
        milestones=[4, 12],
    ),
}


@needs_torch
@pytest.mark.parametrize("name", list(SCHEDULES))
@pytest.mark.parametrize("optimizer_name", ["SGD", "Adam"])
def test_learning_rates_match_pytorch(name, optimizer_name):
    kwargs = {"momentum": 0.9} if optimizer_name == "SGD" else {}
    ours, theirs = _pair(optimizer_name, groups=2, **kwargs)
    our_scheduler = SCHEDULES[name](lr_scheduler, ours)
    their_scheduler = SCHEDULES[name](torch.optim.lr_scheduler, theirs)
    for _ in range(24):
        assert our_scheduler.get_last_lr() == pytest.approx(their_scheduler.get_last_lr(), rel=1e-12)
        for our_group, their_group in zip(ours.param_groups, theirs.param_groups):
            assert our_group["lr"] == pytest.approx(their_group["lr"], rel=1e-12)
            momentum = "momentum" if optimizer_name == "SGD" else "betas"
            assert our_group[momentum] == pytest.approx(their_group[momentum], rel=1e-12)
        ours.step()
        theirs.step()
        our_scheduler.step()
        their_scheduler.step()


@needs_torch
@pytest.mark.filterwarnings("ignore::UserWarning")
def test_warm_restarts_with_fractional_epochs_match_pytorch():
    ours, theirs = _pair()
    our_scheduler = lr_scheduler.CosineAnnealingWarmRestarts(ours, T_0=2, T_mult=3)
    their_scheduler = torch.optim.lr_scheduler.CosineAnnealingWarmRestarts(theirs, T_0=2, T_mult=3)
    for epoch in (0.5, 1.25, 2.0, 3.7, 7.9, 8.0, 20.5):
        our_scheduler.step(epoch)
        their_scheduler.step(epoch)
        assert our_scheduler.get_last_lr() == pytest.approx(their_scheduler.get_last_lr(), rel=1e-12)


@needs_torch
@pytest.mark.filterwarnings("ignore::UserWarning")
def test_step_with_epoch_uses_the_closed_form():
    ours, theirs = _pair()
    our_scheduler = lr_scheduler.StepLR(ours, step_size=2, gamma=0.5)
    their_scheduler = torch.optim.lr_scheduler.StepLR(theirs, step_size=2, gamma=0.5)
    our_scheduler.step(5)
    their_scheduler.step(5)
    assert our_scheduler.get_last_lr() == pytest.approx(their_scheduler.get_last_lr())


@needs_torch
@pytest.mark.parametrize("mode", ["min", "max"])
@pytest.mark.parametrize("threshold_mode", ["rel", "abs"])
def test_reduce_on_plateau_matches_pytorch(mode, threshold_mode):
    ours, theirs = _pair()
    kwargs = {"mode": mode, "threshold_mode": threshold_mode, "patience": 2, "cooldown": 1,
              "factor": 0.5, "min_lr": 0.01}
    our_scheduler = lr_scheduler.ReduceLROnPlateau(ours, **kwargs)
    their_scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(theirs, **kwargs)
    metrics = [5, 4, 4, 4, 4, 4, 3.9999, 4, 4, 4, 4, 4, 6, 6, 6, 6, 6, 6, 6, 6]
    for metric in metrics:
        our_scheduler.step(metric)
        their_scheduler.step(metric)
        assert our_scheduler.get_last_lr() == pytest.approx(their_scheduler.get_last_lr())


@needs_torch
def test_scheduler_state_dict_round_trip():
    ours, _ = _pair()
    scheduler = lr_scheduler.CosineAnnealingLR(ours, T_max=10)
    for _ in range(3):
        scheduler.step()
    other = lr_scheduler.CosineAnnealingLR(_pair()[0], T_max=99)
    other.load_state_dict(scheduler.state_dict())
    assert other.T_max == 10 and other.last_epoch == 3
    assert "optimizer" not in scheduler.state_dict()


@needs_torch
@pytest.mark.parametrize(
    ("build", "error", "words"),
    [
        (lambda o: lr_scheduler.LinearLR(o, start_factor=0), ValueError, "Starting multiplicative factor"),
        (lambda o: lr_scheduler.LinearLR(o, end_factor=2), ValueError, "Ending multiplicative factor"),
        (lambda o: lr_scheduler.ReduceLROnPlateau(o, factor=1.0), ValueError, "Factor should be < 1.0"),
        (lambda o: lr_scheduler.OneCycleLR(o, max_lr=1.0), ValueError, "total_steps OR"),
        (lambda o: lr_scheduler.SequentialLR(o, [lr_scheduler.StepLR(o, 2)], milestones=[3]),
         ValueError, "one more than the number of milestone"),
        (lambda o: lr_scheduler.StepLR(object(), 2), TypeError, "is not an Optimizer"),
    ],
)
def test_invalid_arguments(build, error, words):
    with pytest.raises(error, match=words):
        build(_pair()[0])


@needs_torch
def test_one_cycle_refuses_to_step_past_the_end():
    ours, _ = _pair()
    scheduler = lr_scheduler.OneCycleLR(ours, max_lr=1.0, total_steps=2)
    scheduler.step()
    scheduler.step()
    with pytest.raises(ValueError, match="Tried to step 3 times"):
        scheduler.step()


# ---------------------------------------------------------------------------
# CyclicLR


def test_cyclic_lr_triangle_in_closed_form():
    ours = optim.SGD([nn.Parameter(retrograd.ones(1))], lr=0.1)
    scheduler = lr_scheduler.CyclicLR(ours, base_lr=1.0, max_lr=3.0, step_size_up=2, step_size_down=4,
                                      cycle_momentum=False)
    seen = []
    for _ in range(8):
        seen.append(ours.param_groups[0]["lr"])
        ours.step()
        scheduler.step()
    assert seen == pytest.approx([1.0, 2.0, 3.0, 2.5, 2.0, 1.5, 1.0, 2.0])


def test_cyclic_lr_moves_momentum_against_the_lr():
    optimizer = optim.SGD([nn.Parameter(retrograd.ones(1))], lr=0.1, momentum=0.5)
    scheduler = lr_scheduler.CyclicLR(optimizer, 0.0, 1.0, step_size_up=1, base_momentum=0.8, max_momentum=0.9)
    group = optimizer.param_groups[0]
    assert (group["lr"], group["momentum"]) == (0.0, 0.9)
    assert (group["base_momentum"], group["max_momentum"]) == (0.8, 0.9)
    optimizer.step()
    scheduler.step()
    assert (group["lr"], group["momentum"]) == pytest.approx((1.0, 0.8))


def test_cyclic_lr_refuses_a_bad_mode_and_an_optimizer_without_momentum():
    with pytest.raises(ValueError, match="mode is invalid and scale_fn is None"):
        lr_scheduler.CyclicLR(optim.SGD([nn.Parameter(retrograd.ones(1))], lr=0.1), 0.1, 1.0, mode="zigzag")
    without_momentum = optim.Adagrad([nn.Parameter(retrograd.ones(1))])
    with pytest.raises(ValueError, match="optimizer must support momentum or beta1"):
        lr_scheduler.CyclicLR(without_momentum, 0.1, 1.0)
    lr_scheduler.CyclicLR(without_momentum, 0.1, 1.0, cycle_momentum=False)
    with pytest.raises(ValueError, match="max_lr must have the same length as optimizer.param_groups"):
        lr_scheduler.CyclicLR(without_momentum, 0.1, [1.0, 2.0], cycle_momentum=False)


class _Decay:
    """A scale function with state: saved with the scheduler, as PyTorch saves it."""

    def __init__(self, rate):
        self.rate = rate

    def __call__(self, x):
        return self.rate ** x


def test_cyclic_lr_state_dict_round_trip_keeps_a_callable_scale_fn_state():
    optimizer = optim.SGD([nn.Parameter(retrograd.ones(1))], lr=0.1, momentum=0.9)
    scheduler = lr_scheduler.CyclicLR(optimizer, 0.01, 0.1, step_size_up=3, scale_fn=_Decay(0.5))
    for _ in range(4):
        optimizer.step()
        scheduler.step()
    state = scheduler.state_dict()
    assert state["_scale_fn_custom"] == {"rate": 0.5} and "_scale_fn_ref" not in state
    other_optimizer = optim.SGD([nn.Parameter(retrograd.ones(1))], lr=0.1, momentum=0.9)
    restored = lr_scheduler.CyclicLR(other_optimizer, 0.01, 0.1, step_size_up=3, scale_fn=_Decay(0.9))
    restored.load_state_dict(state)
    assert restored._scale_fn_custom.rate == 0.5 and restored.last_epoch == 4
    optimizer.step()
    scheduler.step()
    other_optimizer.step()
    restored.step()
    assert restored.get_last_lr() == scheduler.get_last_lr()


@needs_torch
@pytest.mark.parametrize("mode", ["triangular", "exp_range"])
def test_cyclic_lr_state_dict_has_pytorchs_keys_and_values(mode):
    ours, theirs = _pair(momentum=0.9)
    our_state = lr_scheduler.CyclicLR(ours, 0.01, 0.1, step_size_up=3, mode=mode).state_dict()
    their_state = torch.optim.lr_scheduler.CyclicLR(theirs, 0.01, 0.1, step_size_up=3, mode=mode).state_dict()
    for key in ("_is_initial", "_get_lr_called_within_step"):
        their_state.pop(key)
    assert our_state == their_state
