"""optim.swa_utils: AveragedModel (SWA and EMA averages, buffers copied or averaged),
update_bn and SWALR, against closed forms and PyTorch."""

import math

import numpy as np
import pytest

import retrograd
from crosscheck import needs_torch, torch
from retrograd import nn
from retrograd.optim import swa_utils


def _model(lib):
    lib.manual_seed(0)
    model = lib.nn.Sequential(lib.nn.Linear(3, 4), lib.nn.BatchNorm1d(4), lib.nn.Linear(4, 1))
    with lib.no_grad():
        for parameter in model.parameters():
            values = np.linspace(-1, 1, parameter.numel()).reshape(tuple(parameter.shape)).astype(np.float32)
            parameter.copy_(lib.tensor(values))
    return model


def _train_and_average(lib, make_average):
    model = _model(lib)
    average = make_average(lib, model)
    optimizer = lib.optim.SGD(model.parameters(), lr=0.5, momentum=0.9)
    scheduler = lib.optim.swa_utils.SWALR(optimizer, swa_lr=0.05, anneal_epochs=3, anneal_strategy="linear")
    inputs = lib.tensor(np.linspace(-2, 2, 30).reshape(10, 3).astype(np.float32))
    lrs = []
    for _ in range(5):
        optimizer.zero_grad()
        model(inputs).pow(2).mean().backward()
        optimizer.step()
        scheduler.step()
        lrs.append(optimizer.param_groups[0]["lr"])
        average.update_parameters(model)
    lib.optim.swa_utils.update_bn([(inputs[:5],), (inputs[5:],)], average)
    tensors = [t.detach().numpy().copy() for t in [*average.parameters(), *average.buffers()]]
    return tensors, lrs, list(average.state_dict())


AVERAGES = {
    "swa": lambda lib, model: lib.optim.swa_utils.AveragedModel(model),
    "ema-multi": lambda lib, model: lib.optim.swa_utils.AveragedModel(
        model, multi_avg_fn=lib.optim.swa_utils.get_ema_multi_avg_fn(0.9)),
    "ema-buffers": lambda lib, model: lib.optim.swa_utils.AveragedModel(
        model, avg_fn=lib.optim.swa_utils.get_ema_avg_fn(0.8), use_buffers=True),
}


@needs_torch
@pytest.mark.parametrize("name", list(AVERAGES))
def test_averages_lrs_and_batchnorm_statistics_match_pytorch(name):
    ours, our_lrs, our_keys = _train_and_average(retrograd, AVERAGES[name])
    theirs, their_lrs, their_keys = _train_and_average(torch, AVERAGES[name])
    assert our_lrs == pytest.approx(their_lrs, rel=1e-12) and our_keys == their_keys
    for mine, other in zip(ours, theirs):
        assert mine.dtype == other.dtype
        np.testing.assert_allclose(mine, other, rtol=1e-5, atol=1e-6)


def test_swa_average_is_the_mean_of_the_weights_it_was_given():
    model = nn.Linear(2, 1)
    average = swa_utils.AveragedModel(model)
    seen = []
    for value in (1.0, 2.0, 6.0):
        with retrograd.no_grad():
            model.weight.fill_(value)
        seen.append(value)
        average.update_parameters(model)
    assert average.module.weight.detach().tolist() == [[pytest.approx(np.mean(seen))] * 2]
    assert average.n_averaged.item() == 3 and average.n_averaged.dtype == retrograd.int64
    assert average.module is not model


def test_ema_functions_move_by_one_minus_decay():
    ema = retrograd.tensor([1.0])
    swa_utils.get_ema_multi_avg_fn(0.75)([ema], [retrograd.tensor([5.0])], 3)
    assert ema.item() == 2.0
    assert swa_utils.get_ema_avg_fn(0.5)(retrograd.tensor(2.0), retrograd.tensor(4.0), 1).item() == 3.0
    assert swa_utils.get_swa_avg_fn()(retrograd.tensor(2.0), retrograd.tensor(5.0), 2).item() == 3.0
    with pytest.raises(ValueError, match=r"Invalid decay value 1.5 provided. Please provide a value in \[0,1\]"):
        swa_utils.get_ema_multi_avg_fn(1.5)


def test_update_bn_makes_the_running_mean_the_data_mean_and_restores_the_mode():
    model = nn.Sequential(nn.BatchNorm1d(2)).eval()
    batches = [retrograd.tensor([[1.0, 2.0], [3.0, 4.0]]), retrograd.tensor([[5.0, 6.0], [7.0, 8.0]])]
    swa_utils.update_bn(batches, model)
    assert model[0].running_mean.tolist() == pytest.approx([4.0, 5.0])
    assert model[0].momentum == 0.1 and not model.training


def test_swalr_cosine_anneals_to_the_swa_lr_then_holds():
    optimizer = retrograd.optim.SGD([nn.Parameter(retrograd.ones(1))], lr=1.0)
    scheduler = swa_utils.SWALR(optimizer, swa_lr=0.1, anneal_epochs=2)
    lrs = [optimizer.param_groups[0]["lr"]]
    for _ in range(4):
        optimizer.step()
        scheduler.step()
        lrs.append(optimizer.param_groups[0]["lr"])
    halfway = 0.1 * (1 - math.cos(math.pi / 2)) / 2 + 1.0 * (1 - (1 - math.cos(math.pi / 2)) / 2)
    assert lrs == pytest.approx([1.0, halfway, 0.1, 0.1, 0.1])
    state = scheduler.state_dict()
    assert "anneal_func" not in state and state["_anneal_strategy"] == "cos"


def test_bad_arguments_are_refused():
    optimizer = retrograd.optim.SGD([nn.Parameter(retrograd.ones(1))], lr=1.0)
    with pytest.raises(ValueError, match="anneal_strategy must be one of 'cos' or 'linear', instead got step"):
        swa_utils.SWALR(optimizer, 0.1, anneal_strategy="step")
    with pytest.raises(ValueError, match="anneal_epochs must be equal or greater than 0, got -1"):
        swa_utils.SWALR(optimizer, 0.1, anneal_epochs=-1)
    with pytest.raises(AssertionError, match="Only one of avg_fn and multi_avg_fn"):
        swa_utils.AveragedModel(nn.Linear(1, 1), avg_fn=swa_utils.get_swa_avg_fn(),
                                multi_avg_fn=swa_utils.get_swa_multi_avg_fn())
