"""`swap_in_optimizer_params_and_state`: an optimiser that, inside a `with` block, works on
other parameters and another state (given as a `state_dict()`), and is itself again after.

Unlike `load_state_dict`, the parameters are swapped too, so `step()` updates the tensors
supplied. Only in-place changes reach the supplied state; everything else the block does to
the optimiser is undone on exit.
"""

from __future__ import annotations

import contextlib
from collections import defaultdict

from .._tensor import Tensor

__all__ = ["swap_in_optimizer_params_and_state"]

_NAME = "swap_in_optimizer_params_and_state"


def _checked_state(state) -> dict:
    if not isinstance(state, dict):
        raise RuntimeError(
            f"{_NAME} requires swapin_optim_state['state'] to be a dict mapping packed parameter ids to "
            f"per-param state dicts, got {type(state).__name__}."
        )
    if any(isinstance(key, Tensor) for key in state):
        raise RuntimeError(
            f"{_NAME} requires optimizer.state_dict()-style state keyed by packed parameter ids."
        )
    if any(isinstance(key, int) and not isinstance(value, dict) for key, value in state.items()):
        raise RuntimeError(f"{_NAME} requires per-parameter optimizer state entries to be dictionaries.")
    return state


def _checked_groups(optimizer, groups) -> list:
    if not isinstance(groups, list):
        raise RuntimeError(
            f"{_NAME} requires swapin_optim_state['param_groups'] to be a list of param-group dicts, "
            f"got {type(groups).__name__}."
        )
    if len(groups) != len(optimizer.param_groups):
        raise RuntimeError(
            "swapin_optim_state has a different number of parameter groups than the live optimizer."
        )
    return groups


def _checked_ids(index: int, live: dict, swapin) -> list[int]:
    """The packed ids of a swap-in group, once it is known to mirror the live group."""
    if not isinstance(swapin, dict):
        raise RuntimeError(f"{_NAME} requires each optimizer param group to be a dictionary.")
    ids = swapin.get("params")
    if not isinstance(ids, list) or not all(isinstance(packed, int) for packed in ids):
        raise RuntimeError(
            f"{_NAME} requires optimizer.state_dict()-style param_groups[*]['params'] entries keyed by "
            "packed parameter ids."
        )
    if len(ids) != len(live["params"]):
        raise RuntimeError(
            f"swapin_optim_state param group {index} has a different number of params than the live "
            "optimizer param group."
        )
    only_swapin = [key for key in swapin if key not in live]
    only_live = [key for key in live if key not in swapin]
    if only_swapin or only_live:
        raise RuntimeError(
            f"{_NAME} requires optimizer.state_dict()-style param group keys to exactly match the live "
            f"optimizer group keys for group {index}. Keys only in swap-in: {only_swapin}. Keys only in "
            f"live: {only_live}."
        )
    return ids


def _plan(optimizer, swapin_parameters: dict, swapin_optim_state) -> tuple[dict, list]:
    """Check everything first; return the packed state and, per group, (live group, swap-in
    group, the parameters it takes in order)."""
    if not optimizer.state:
        raise RuntimeError(f"{_NAME} requires initialized optimizer state.")
    if not isinstance(swapin_optim_state, dict):
        raise RuntimeError(f"{_NAME} requires a DCP-style optimizer state_dict.")
    state = _checked_state(swapin_optim_state.get("state"))
    groups = _checked_groups(optimizer, swapin_optim_state.get("param_groups"))
    parameters = list(swapin_parameters.values())
    plan, offset, seen = [], 0, set()
    for index, (live, swapin) in enumerate(zip(optimizer.param_groups, groups)):
        ids = _checked_ids(index, live, swapin)
        seen.update(ids)
        if offset + len(ids) > len(parameters):
            raise RuntimeError(
                f"{_NAME} requires the explicit parameter state to match optimizer.param_groups ordering."
            )
        plan.append((live, swapin, parameters[offset:offset + len(ids)]))
        offset += len(ids)
    extra = [key for key in state if key not in seen]
    if extra:
        raise RuntimeError(
            f"{_NAME} requires swapin_optim_state['state'] to be keyed only by packed parameter ids from "
            f"param_groups[*]['params']; got extra keys {extra!r}."
        )
    return state, plan


@contextlib.contextmanager
def swap_in_optimizer_params_and_state(optimizer, swapin_parameters: dict, swapin_optim_state: dict):
    """Inside the block, `optimizer` holds `swapin_parameters` (a dict, in the order of its
    param groups) and the state and hyper-parameters of `swapin_optim_state` (shaped as
    `state_dict()`); its own parameters, groups and state come back on exit."""
    state, plan = _plan(optimizer, swapin_parameters, swapin_optim_state)
    live_state = optimizer.state
    snapshots = [dict(group) for group in optimizer.param_groups]
    try:
        swapped: defaultdict = defaultdict(dict)
        for live, swapin, parameters in plan:
            live.update({key: value for key, value in swapin.items() if key != "params"})
            live["params"] = parameters
            for parameter, packed in zip(parameters, swapin["params"]):
                swapped[parameter] = dict(state.get(packed, {}))
        optimizer.state = swapped
        yield
    finally:
        for group, snapshot in zip(optimizer.param_groups, snapshots):
            group.clear()
            group.update(snapshot)
        optimizer.state = live_state
