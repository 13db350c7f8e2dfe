"""retrograd.distributed and DistributedDataParallel, run in 2 and 4 real processes.

Each test launches this file under `python -m retrograd.distributed.run` (or plain
`mpiexec`) as a subprocess with a timeout. In the worker, every rank runs the named
scenarios and writes one JSON file of results; the tests read those files. A scenario
checks collectives against NumPy and DDP against single-process training on the
concatenated batch. Skipped when mpi4py or mpiexec is missing (install the extra:
pip install -e '.[distributed]').
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import traceback
import warnings
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT / "src"


def _mpiexec() -> str | None:
    beside = Path(sys.executable).parent / "mpiexec"
    return str(beside) if beside.exists() else shutil.which("mpiexec")


def _mpi_available() -> bool:
    try:
        import mpi4py  # noqa: F401
    except ImportError:
        return False
    return _mpiexec() is not None


needs_mpi = pytest.mark.skipif(
    not _mpi_available(), reason="needs mpi4py and mpiexec: pip install -e '.[distributed]'"
)


def _environment() -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(SOURCE), env.get("PYTHONPATH")]))
    env["OMP_NUM_THREADS"] = env["OPENBLAS_NUM_THREADS"] = env["MKL_NUM_THREADS"] = "1"
    return env


def _descendants(pid: int) -> list[int]:
    """Every process below `pid` (Linux /proc). MPI's launcher puts each rank in a session
    of its own, so killing the job's process group would miss them."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(parent, []).append(int(entry.name))
    found, stack = [], [pid]
    while stack:
        for child in children.get(stack.pop(), []):
            found.append(child)
            stack.append(child)
    return found


def stop_job(process: subprocess.Popen) -> None:
    """SIGTERM the launcher (mpiexec then stops its ranks), then SIGKILL whatever is left."""
    tree = _descendants(process.pid)
    process.terminate()
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=5)
    for pid in [process.pid, *tree, *_descendants(process.pid)]:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGKILL)


def run_job(command: list[str], timeout: float, cwd: Path = ROOT) -> tuple[int, str, float]:
    """Run an MPI job; past `timeout`, stop every process of it and fail."""
    start = time.monotonic()
    process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True, env=_environment(), cwd=cwd)
    try:
        output, _ = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        stop_job(process)
        try:
            output, _ = process.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            output = "(no output: a process still holds the pipe)"
        pytest.fail(f"the job did not finish within {timeout} s:\n{output}")
    return process.returncode, output, time.monotonic() - start


def launch(nproc: int, *arguments: str, timeout: float = 90) -> tuple[int, str, float]:
    command = [sys.executable, "-m", "retrograd.distributed.run", "--nproc-per-node", str(nproc),
               __file__, *arguments]
    return run_job(command, timeout)


def run_scenarios(nproc: int, names: list[str], tmp_path: Path) -> dict:
    """Run `names` in one job; {scenario: {rank: error or None}}."""
    code, output, _ = launch(nproc, str(tmp_path), *names)
    results: dict = {}
    for rank in range(nproc):
        path = tmp_path / f"rank{rank}.json"
        if not path.exists():
            pytest.fail(f"rank {rank} wrote no results (exit code {code}):\n{output}")
        for name, error in json.loads(path.read_text()).items():
            results.setdefault(name, {})[rank] = error
    assert code == 0, output
    return results


# ---------------------------------------------------------------------------
# Scenarios: run inside the workers (each rank runs the same list in the same order)

SCENARIOS = {}


def scenario(function):
    SCENARIOS[function.__name__] = function
    return function


def _torch():
    import retrograd

    return retrograd


def _dist():
    import retrograd.distributed as dist

    return dist


def _close(actual, expected, tolerance=1e-6):
    actual = np.asarray(actual._data if hasattr(actual, "_data") else actual, dtype=np.float64)
    expected = np.asarray(expected, dtype=np.float64)
    assert actual.shape == expected.shape, (actual.shape, expected.shape)
    assert np.allclose(actual, expected, rtol=tolerance, atol=tolerance), (actual, expected)


def _rank_values(rank: int, shape=(2, 3)) -> np.ndarray:
    """What rank `rank` contributes: distinct values per rank and element."""
    return (np.arange(np.prod(shape)).reshape(shape) + 1.0) * (rank + 1) + 0.5 * rank


@scenario
def all_reduce_ops():
    torch, dist = _torch(), _dist()
    rank, size = dist.get_rank(), dist.get_world_size()
    stacked = np.stack([_rank_values(r) for r in range(size)])
    expected = {
        dist.ReduceOp.SUM: stacked.sum(0), dist.ReduceOp.AVG: stacked.mean(0),
        dist.ReduceOp.MAX: stacked.max(0), dist.ReduceOp.MIN: stacked.min(0),
        dist.ReduceOp.PRODUCT: stacked.prod(0),
    }
    for op, value in expected.items():
        for dtype in (torch.float32, torch.float64):
            tensor = torch.tensor(_rank_values(rank), dtype=dtype)
            assert dist.all_reduce(tensor, op=op) is None
            _close(tensor, value, 1e-5)
            assert tensor.dtype is dtype


@scenario
def all_reduce_integers_bools_halves_and_views():
    torch, dist = _torch(), _dist()
    rank, size = dist.get_rank(), dist.get_world_size()
    integers = torch.tensor([rank, 10 * rank, 3], dtype=torch.int64)
    dist.all_reduce(integers)
    assert integers.tolist() == [sum(range(size)), 10 * sum(range(size)), 3 * size]
    flags = torch.tensor([rank == 0, False, True])
    dist.all_reduce(flags)  # SUM on bool: any
    assert flags.tolist() == [True, False, True]
    halves = torch.tensor([1.5, rank], dtype=torch.float16)
    dist.all_reduce(halves)
    assert halves.dtype is torch.float16
    _close(halves, [1.5 * size, sum(range(size))])
    base = torch.zeros(3, 4)
    view = base.t()  # not contiguous: reduced through a copy, written back into `base`
    view += rank + 1
    dist.all_reduce(view)
    _close(base, np.full((3, 4), size * (size + 1) / 2))


@scenario
def all_reduce_async_work_handle():
    torch, dist = _torch(), _dist()
    rank, size = dist.get_rank(), dist.get_world_size()
    tensor = torch.tensor(_rank_values(rank))
    version = tensor._version
    work = dist.all_reduce(tensor, async_op=True)
    assert work is not None
    assert work.wait() is True
    assert work.is_completed() and work.is_success()
    _close(tensor, sum(_rank_values(r) for r in range(size)))
    assert tensor._version > version  # an in-place change
    assert work.result()[0] is tensor
    second = torch.ones(5)
    work = dist.all_reduce(second, async_op=True)
    deadline = time.monotonic() + 20
    while not work.is_completed():
        assert time.monotonic() < deadline
    _close(second, np.full(5, size))


@scenario
def collectives_record_no_history():
    torch, dist = _torch(), _dist()
    leaf = torch.ones(3, requires_grad=True)
    doubled = leaf * 2
    dist.all_reduce(doubled)
    assert doubled.grad_fn.name() == "MulBackward0"  # the in-place reduction was not recorded
    doubled.sum().backward()
    _close(leaf.grad, [2.0, 2.0, 2.0])  # not world_size * 2


@scenario
def broadcast_from_each_rank():
    torch, dist = _torch(), _dist()
    rank, size = dist.get_rank(), dist.get_world_size()
    for source in range(size):
        tensor = torch.tensor(_rank_values(rank))
        dist.broadcast(tensor, src=source)
        _close(tensor, _rank_values(source))
    work = dist.broadcast(tensor := torch.tensor(_rank_values(rank)), src=size - 1, async_op=True)
    work.wait()
    _close(tensor, _rank_values(size - 1))


@scenario
def all_gather_both_forms():
    torch, dist = _torch(), _dist()
    rank, size = dist.get_rank(), dist.get_world_size()
    outputs = [torch.zeros(2, 3) for _ in range(size)]
    dist.all_gather(outputs, torch.tensor(_rank_values(rank), dtype=torch.float32))
    for source, output in enumerate(outputs):
        _close(output, _rank_values(source))
    concatenated = torch.zeros(2 * size, 3, dtype=torch.float64)
    dist.all_gather_into_tensor(concatenated, torch.tensor(_rank_values(rank)))
    _close(concatenated, np.concatenate([_rank_values(r) for r in range(size)]))
    stacked = torch.zeros(size, 2, 3, dtype=torch.float64)
    dist.all_gather_into_tensor(stacked, torch.tensor(_rank_values(rank)), async_op=True).wait()
    _close(stacked, np.stack([_rank_values(r) for r in range(size)]))


@scenario
def reduce_scatter_both_forms():
    torch, dist = _torch(), _dist()
    rank, size = dist.get_rank(), dist.get_world_size()

    def block(source, target):  # what rank `source` contributes to rank `target`'s block
        return _rank_values(source, (3,)) + 100 * target

    output = torch.zeros(3, dtype=torch.float64)
    dist.reduce_scatter(output, [torch.tensor(block(rank, target)) for target in range(size)])
    _close(output, sum(block(source, rank) for source in range(size)))
    output = torch.zeros(3, dtype=torch.float64)
    whole = torch.tensor(np.concatenate([block(rank, target) for target in range(size)]))
    dist.reduce_scatter_tensor(output, whole, op=dist.ReduceOp.MAX)
    _close(output, np.max([block(source, rank) for source in range(size)], axis=0))


@scenario
def reduce_to_one_rank():
    torch, dist = _torch(), _dist()
    rank, size = dist.get_rank(), dist.get_world_size()
    destination = size - 1
    tensor = torch.tensor(_rank_values(rank))
    dist.reduce(tensor, dst=destination, op=dist.ReduceOp.SUM)
    if rank == destination:
        _close(tensor, sum(_rank_values(r) for r in range(size)))
    else:
        _close(tensor, _rank_values(rank))  # the others keep their input


@scenario
def gather_and_scatter():
    torch, dist = _torch(), _dist()
    rank, size = dist.get_rank(), dist.get_world_size()
    gathered = [torch.zeros(2, 3, dtype=torch.float64) for _ in range(size)] if rank == 0 else None
    dist.gather(torch.tensor(_rank_values(rank)), gathered, dst=0)
    if rank == 0:
        for source, value in enumerate(gathered):
            _close(value, _rank_values(source))
    source = size - 1
    pieces = [torch.tensor(_rank_values(r) * 7) for r in range(size)] if rank == source else None
    received = torch.zeros(2, 3, dtype=torch.float64)
    dist.scatter(received, pieces, src=source)
    _close(received, _rank_values(rank) * 7)


@scenario
def send_recv_ring():
    torch, dist = _torch(), _dist()
    rank, size = dist.get_rank(), dist.get_world_size()
    right, left = (rank + 1) % size, (rank - 1) % size
    outgoing = torch.tensor(_rank_values(rank))
    incoming = torch.zeros(2, 3, dtype=torch.float64)
    if rank % 2 == 0:
        dist.send(outgoing, dst=right)
        assert dist.recv(incoming, src=left) == left
    else:
        assert dist.recv(incoming) == left  # from any source: the sender's rank is returned
        dist.send(outgoing, dst=right)
    _close(incoming, _rank_values(left))
    incoming = torch.zeros(2, 3, dtype=torch.float64)
    works = [dist.isend(outgoing, dst=right, tag=5), dist.irecv(incoming, src=left, tag=5)]
    for work in works:
        work.wait()
    _close(incoming, _rank_values(left))


@scenario
def wait_past_its_timeout_raises_and_can_be_retried():
    import datetime

    torch, dist = _torch(), _dist()
    rank, size = dist.get_rank(), dist.get_world_size()
    if rank == 0:
        incoming = torch.zeros(2)
        work = dist.irecv(incoming, src=size - 1, tag=99)  # rank size-1 sends only after the barrier
        assert not work.is_completed()
        try:
            work.wait(timeout=datetime.timedelta(seconds=0.3))
        except RuntimeError as error:
            assert "recv timed out after 0.3 s" in str(error)
            assert work.exception() is error and not work.is_success()
        else:
            raise AssertionError("the wait did not time out")
        dist.barrier()
        work.wait()
        assert work.is_success()
        _close(incoming, [7.0, 7.0])
    else:
        dist.barrier()
        if rank == size - 1:
            dist.send(torch.full((2,), 7.0), dst=0, tag=99)


@scenario
def barrier_and_objects():
    dist = _dist()
    rank, size = dist.get_rank(), dist.get_world_size()
    dist.barrier()
    dist.barrier(async_op=True).wait()
    everyone = [None] * size
    dist.all_gather_object(everyone, {"rank": rank})
    assert everyone == [{"rank": r} for r in range(size)]
    objects = [rank, "x"] if rank == 1 else [None, None]
    dist.broadcast_object_list(objects, src=1)
    assert objects == [1, "x"]


@scenario
def groups_of_some_ranks():
    torch, dist = _torch(), _dist()
    rank, size = dist.get_rank(), dist.get_world_size()
    members = list(range(1, size))  # everyone but rank 0
    subgroup = dist.new_group(members)
    tensor = torch.tensor(_rank_values(rank))
    if rank == 0:
        assert subgroup is dist.GroupMember.NON_GROUP_MEMBER
        assert dist.get_rank(subgroup) == -1
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            assert dist.all_reduce(tensor, group=subgroup) is None
        assert "does not belong to the given group" in str(caught[0].message)
        _close(tensor, _rank_values(0))
    else:
        assert dist.get_world_size(subgroup) == size - 1
        assert dist.get_rank(subgroup) == rank - 1
        assert dist.get_process_group_ranks(subgroup) == members
        dist.all_reduce(tensor, group=subgroup)
        _close(tensor, sum(_rank_values(r) for r in members))
        dist.broadcast(tensor := torch.tensor(_rank_values(rank)), src=size - 1, group=subgroup)
        _close(tensor, _rank_values(size - 1))
    dist.barrier()


@scenario
def differentiable_all_reduce_and_all_gather():
    torch, dist = _torch(), _dist()
    import retrograd.distributed.nn as dist_nn

    rank, size = dist.get_rank(), dist.get_world_size()
    x = torch.full((3,), float(rank + 1), requires_grad=True)
    total = dist_nn.all_reduce(x)
    _close(total, np.full(3, size * (size + 1) / 2))
    assert total.grad_fn is not None and x.grad is None
    (total * (rank + 1)).sum().backward()
    # d/dx_r of sum_q (q+1) * sum_p x_p = sum_q (q+1)
    _close(x.grad, np.full(3, size * (size + 1) / 2))
    y = torch.full((2,), float(rank), requires_grad=True)
    gathered = dist_nn.all_gather(y)
    assert len(gathered) == size
    for source, value in enumerate(gathered):
        _close(value, np.full(2, float(source)))
    loss = sum((source + 1) * value.sum() for source, value in enumerate(gathered)) * (rank + 1)
    loss.backward()
    # d/dy_r: every rank q weighs its r-th output by (r+1)(q+1)
    _close(y.grad, np.full(2, (rank + 1) * size * (size + 1) / 2))


@scenario
def launcher_sets_torchrun_variables():
    dist = _dist()
    assert int(os.environ["RANK"]) == dist.get_rank()
    assert int(os.environ["WORLD_SIZE"]) == dist.get_world_size()
    assert int(os.environ["LOCAL_RANK"]) == dist.get_rank()  # one machine
    assert int(os.environ["LOCAL_WORLD_SIZE"]) == dist.get_world_size()
    assert dist.is_initialized() and dist.get_backend() == "mpi"


# -- DistributedDataParallel ---------------------------------------------------

BATCH_PER_RANK = 4


def _mlp(seed: int, dtype=None):
    torch = _torch()
    torch.manual_seed(seed)
    model = torch.nn.Sequential(torch.nn.Linear(6, 8), torch.nn.Tanh(), torch.nn.Linear(8, 3))
    return model.to(dtype) if dtype is not None else model


def _global_batch(step: int, size: int, dtype):
    torch = _torch()
    rng = np.random.default_rng(1000 + step)
    inputs = rng.standard_normal((BATCH_PER_RANK * size, 6))
    targets = rng.standard_normal((BATCH_PER_RANK * size, 3))
    return torch.tensor(inputs, dtype=dtype), torch.tensor(targets, dtype=dtype)


def _share(tensor, rank: int):
    return tensor[rank * BATCH_PER_RANK:(rank + 1) * BATCH_PER_RANK]


def _train_both(make_optimizer, steps: int = 20, dtype=None, **ddp_options):
    """Train DDP on this rank's share and, beside it, one model on the whole batch."""
    torch, dist = _torch(), _dist()
    from retrograd.nn.parallel import DistributedDataParallel

    dtype = dtype or torch.float32
    rank, size = dist.get_rank(), dist.get_world_size()
    local = _mlp(seed=7 + rank, dtype=dtype)  # different on each rank: DDP copies rank 0's
    reference = _mlp(seed=7, dtype=dtype)
    model = DistributedDataParallel(local, **ddp_options)
    optimizer = make_optimizer(model.parameters())
    reference_optimizer = make_optimizer(reference.parameters())
    loss_function = torch.nn.MSELoss()
    for step in range(steps):
        inputs, targets = _global_batch(step, size, dtype)
        optimizer.zero_grad()
        loss_function(model(_share(inputs, rank)), _share(targets, rank)).backward()
        optimizer.step()
        reference_optimizer.zero_grad()
        loss_function(reference(inputs), targets).backward()
        reference_optimizer.step()
    return model, reference


def _same_parameters(model, reference, tolerance=1e-6):
    for (name, mine), theirs in zip(model.module.named_parameters(), reference.parameters()):
        difference = np.abs(mine._data.astype(np.float64) - theirs._data.astype(np.float64)).max()
        assert difference <= tolerance, f"{name}: differs by {difference}"


@scenario
def ddp_sgd_momentum_matches_single_process():
    torch = _torch()
    model, reference = _train_both(lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9))
    _same_parameters(model, reference)


@scenario
def ddp_adam_matches_single_process():
    torch = _torch()
    model, reference = _train_both(lambda p: torch.optim.Adam(p, lr=0.01))
    _same_parameters(model, reference)


@scenario
def ddp_uneven_buckets_match_single_process():
    torch = _torch()
    # 100 bytes per bucket: each bucket holds one or two tensors of different sizes, so
    # bucket boundaries fall unevenly (a 96-byte bias beside a 192-byte weight, ...).
    model, reference = _train_both(lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9), steps=5,
                                   bucket_cap_mb=100 / 2**20)
    _same_parameters(model, reference)
    sizes = [len(bucket.indices) for bucket in model._ddp_buckets]
    buffer_sizes = {bucket.buffer.size for bucket in model._ddp_buckets}
    # uneven: buckets differ in bytes, or in how many tensors share one (which of the two
    # depends on the order gradients arrive in, which follows the graph PyTorch records)
    assert len(sizes) >= 2 and (len(buffer_sizes) > 1 or len(set(sizes)) > 1)
    # after the first iteration the buckets follow rank 0's order of gradient arrival
    assert model._ddp_rebuilt
    everyone = [None] * _dist().get_world_size()
    _dist().all_gather_object(everyone, [bucket.indices for bucket in model._ddp_buckets])
    assert all(order == everyone[0] for order in everyone)


@scenario
def ddp_mixed_dtypes_use_one_bucket_per_dtype():
    torch, dist = _torch(), _dist()
    from retrograd.nn.parallel import DistributedDataParallel

    rank, size = dist.get_rank(), dist.get_world_size()

    class Mixed(torch.nn.Module):
        def __init__(self):
            super().__init__()
            torch.manual_seed(4)
            self.wide = torch.nn.Linear(6, 5).double()
            self.narrow = torch.nn.Linear(5, 3)

        def forward(self, x):
            return self.narrow(self.wide(x.double()).tanh().float())

    model = DistributedDataParallel(Mixed(), bucket_cap_mb=60 / 2**20)
    reference = Mixed()
    inputs, targets = _global_batch(0, size, torch.float32)
    torch.nn.functional.mse_loss(model(_share(inputs, rank)), _share(targets, rank)).backward()
    torch.nn.functional.mse_loss(reference(inputs), targets).backward()
    for (name, mine), theirs in zip(model.module.named_parameters(), reference.parameters()):
        assert mine.grad.dtype is mine.dtype, name
        _close(mine.grad, theirs.grad._data, 1e-5)
    for bucket in model._ddp_buckets:
        assert len({model._ddp_params[index].dtype for index in bucket.indices}) == 1


@scenario
def ddp_bucket_all_reduce_starts_during_backward():
    torch = _torch()
    model, _ = _train_both(lambda p: torch.optim.SGD(p, lr=0.1), steps=2, bucket_cap_mb=100 / 2**20)
    timeline = model._ddp_timeline
    first_launch = min(launched for launched, _, _ in timeline["buckets"])
    # the first bucket left before the last gradient had been computed
    assert first_launch < timeline["last_gradient"] <= timeline["backward_done"]


@scenario
def ddp_no_sync_accumulates_like_a_large_batch():
    torch, dist = _torch(), _dist()
    from retrograd.nn.parallel import DistributedDataParallel

    rank, size = dist.get_rank(), dist.get_world_size()
    model = DistributedDataParallel(_mlp(seed=3))
    reference = _mlp(seed=3)
    loss_function = torch.nn.MSELoss(reduction="sum")
    batches = [_global_batch(step, size, torch.float32) for step in range(3)]
    with model.no_sync():
        for inputs, targets in batches[:2]:
            loss_function(model(_share(inputs, rank)), _share(targets, rank)).backward()
        local = [parameter.grad._data.copy() for parameter in model.parameters()]
    inputs, targets = batches[2]
    loss_function(model(_share(inputs, rank)), _share(targets, rank)).backward()
    for inputs, targets in batches:
        loss_function(reference(inputs), targets).backward()
    for mine, theirs in zip(model.parameters(), reference.parameters()):
        _close(mine.grad, theirs.grad._data / size, 1e-5)  # the average of the ranks' sums
    if size > 1:  # inside no_sync nothing was averaged: ranks held their own sums
        gathered = [None] * size
        dist.all_gather_object(gathered, local[0])
        assert not np.allclose(gathered[0], gathered[1])


class _TwoHeads:
    """A model whose second head is used on rank 0 only, and a third never."""

    @staticmethod
    def make():
        torch = _torch()

        class Model(torch.nn.Module):
            def __init__(self):
                super().__init__()
                self.body = torch.nn.Linear(4, 4)
                self.head = torch.nn.Linear(4, 2)
                self.extra = torch.nn.Linear(4, 2)
                self.never = torch.nn.Linear(4, 2)

            def forward(self, x, use_extra):
                hidden = self.body(x).tanh()
                out = self.head(hidden)
                return out + self.extra(hidden) if use_extra else out

        torch.manual_seed(11)
        return Model()


@scenario
def ddp_find_unused_parameters():
    torch, dist = _torch(), _dist()
    from retrograd.nn.parallel import DistributedDataParallel

    rank, size = dist.get_rank(), dist.get_world_size()
    model = DistributedDataParallel(_TwoHeads.make(), find_unused_parameters=True)
    reference = _TwoHeads.make()
    rng = np.random.default_rng(5)
    inputs = torch.tensor(rng.standard_normal((size, 3, 4)), dtype=torch.float32)
    model(inputs[rank], use_extra=True)  # a forward without backward: its reductions are drained
    for step in range(2):  # the second step runs on rebuilt buckets
        model.zero_grad()
        reference.zero_grad()
        model(inputs[rank], use_extra=rank == 0).sum().backward()
        for source in range(size):
            (reference(inputs[source], use_extra=source == 0).sum() / size).backward()
        for name, mine in model.module.named_parameters():
            theirs = reference.get_parameter(name)
            if name.startswith("never"):
                assert mine.grad is None, f"{name} (unused everywhere) got a gradient"
            else:
                _close(mine.grad, theirs.grad._data, 1e-5)
        assert step == 0 or model._ddp_rebuilt


@scenario
def ddp_unused_parameter_without_detection_is_reported():
    torch = _torch()
    from retrograd.nn.parallel import DistributedDataParallel

    model = DistributedDataParallel(_TwoHeads.make())
    inputs = torch.ones(2, 4)
    model(inputs, use_extra=True).sum().backward()  # never.* get no gradient
    try:
        model(inputs, use_extra=True)
    except RuntimeError as error:
        message = str(error)
        assert "Expected to have finished reduction in the prior iteration" in message
        assert "find_unused_parameters=True" in message
        named = message.split("did not receive grad")[1]
        assert "never.weight" in named and "never.bias" in named
        assert "extra.weight" not in named and "head.bias" not in named
    else:
        raise AssertionError("the unfinished reduction was not reported")


@scenario
def ddp_broadcasts_parameters_and_buffers_from_rank_0():
    torch, dist = _torch(), _dist()
    from retrograd.nn.parallel import DistributedDataParallel

    rank = dist.get_rank()
    torch.manual_seed(rank)
    local = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4))
    model = DistributedDataParallel(local)
    gathered = [None] * dist.get_world_size()
    dist.all_gather_object(gathered, local[0].weight._data.copy())
    assert all(np.array_equal(value, gathered[0]) for value in gathered)
    # each rank sees different data, so its running statistics move differently...
    model(torch.tensor(np.random.default_rng(rank).standard_normal((5, 3)), dtype=torch.float32))
    # ...and the next forward starts from rank 0's
    model(torch.zeros(5, 3))
    mean = local[1].running_mean._data.copy()
    dist.all_gather_object(gathered, mean)
    assert all(np.array_equal(value, gathered[0]) for value in gathered)


@scenario
def ddp_with_checkpointing_matches_single_process():
    torch, dist = _torch(), _dist()
    from retrograd.nn.parallel import DistributedDataParallel
    from retrograd.utils.checkpoint import checkpoint

    rank, size = dist.get_rank(), dist.get_world_size()

    class Checkpointed(torch.nn.Module):
        def __init__(self, use_reentrant):
            super().__init__()
            torch.manual_seed(2)
            self.first = torch.nn.Linear(6, 8)
            self.second = torch.nn.Linear(8, 3)
            self.use_reentrant = use_reentrant

        def forward(self, x):
            hidden = checkpoint(lambda v: self.first(v).tanh(), x, use_reentrant=self.use_reentrant)
            return self.second(hidden)

    for use_reentrant in (False, True):
        model = DistributedDataParallel(Checkpointed(use_reentrant))
        reference = Checkpointed(use_reentrant)
        inputs, targets = _global_batch(0, size, torch.float32)
        if use_reentrant:
            inputs.requires_grad_()
        torch.nn.functional.mse_loss(model(_share(inputs, rank)), _share(targets, rank)).backward()
        torch.nn.functional.mse_loss(reference(inputs), targets).backward()
        for mine, theirs in zip(model.parameters(), reference.parameters()):
            _close(mine.grad, theirs.grad._data, 1e-5)


@scenario
def ddp_parameter_shape_mismatch_is_named_at_construction():
    torch, dist = _torch(), _dist()
    from retrograd.nn.parallel import DistributedDataParallel

    rank = dist.get_rank()
    width = 3 if rank == 0 else 5
    model = torch.nn.Sequential(torch.nn.Linear(4, 4), torch.nn.Linear(4, width))
    try:
        DistributedDataParallel(model)
    except RuntimeError as error:
        message = str(error)
        assert "DDP expects same model across all ranks" in message
        assert "'1.weight'" in message and "[5, 4]" in message and "[3, 4]" in message
    else:
        raise AssertionError("the mismatch was not detected")


def _worker(results_dir: str, names: list[str]) -> None:
    import datetime

    dist = _dist()
    dist.init_process_group(backend="mpi", timeout=datetime.timedelta(seconds=30))
    results = {}
    for name in names:
        try:
            SCENARIOS[name]()
            results[name] = None
        except Exception:
            results[name] = traceback.format_exc()
        dist.barrier()
    path = Path(results_dir) / f"rank{dist.get_rank()}.json"
    path.write_text(json.dumps(results))
    dist.destroy_process_group()


# Small failing programs, run by the failure tests.

FAILING_RANK = """
import datetime, time
import retrograd as torch
import retrograd.distributed as dist
dist.init_process_group(backend="mpi", timeout=datetime.timedelta(seconds=120))
if dist.get_rank() == 1:
    raise ValueError("rank 1 cannot go on")
dist.all_reduce(torch.ones(3))   # rank 0 waits here for a rank that will never come
print("unreachable")
"""

SILENT_EXIT = """
import datetime, sys
import retrograd as torch
import retrograd.distributed as dist
dist.init_process_group(backend="mpi", timeout=datetime.timedelta(seconds=3))
if dist.get_rank() == 1:
    sys.exit(0)                  # leaves without an error: only the timeout can tell
dist.all_reduce(torch.ones(3))
print("unreachable")
"""


# ---------------------------------------------------------------------------
# The tests

COLLECTIVES = [
    "all_reduce_ops", "all_reduce_integers_bools_halves_and_views", "all_reduce_async_work_handle",
    "collectives_record_no_history", "broadcast_from_each_rank", "all_gather_both_forms",
    "reduce_scatter_both_forms", "reduce_to_one_rank", "gather_and_scatter", "send_recv_ring",
    "wait_past_its_timeout_raises_and_can_be_retried",
    "barrier_and_objects", "differentiable_all_reduce_and_all_gather", "launcher_sets_torchrun_variables",
]
DDP = [
    "ddp_sgd_momentum_matches_single_process", "ddp_adam_matches_single_process",
    "ddp_uneven_buckets_match_single_process", "ddp_mixed_dtypes_use_one_bucket_per_dtype",
    "ddp_bucket_all_reduce_starts_during_backward",
    "ddp_no_sync_accumulates_like_a_large_batch", "ddp_find_unused_parameters",
    "ddp_unused_parameter_without_detection_is_reported",
    "ddp_broadcasts_parameters_and_buffers_from_rank_0",
    "ddp_with_checkpointing_matches_single_process",
    "ddp_parameter_shape_mismatch_is_named_at_construction",
]
FOUR = [*COLLECTIVES, "groups_of_some_ranks", "ddp_sgd_momentum_matches_single_process",
        "ddp_adam_matches_single_process", "ddp_find_unused_parameters"]


@pytest.fixture(scope="module")
def two_process_results(tmp_path_factory):
    return run_scenarios(2, COLLECTIVES + DDP + ["groups_of_some_ranks"],
                         tmp_path_factory.mktemp("two"))


@pytest.fixture(scope="module")
def four_process_results(tmp_path_factory):
    return run_scenarios(4, FOUR, tmp_path_factory.mktemp("four"))


def _assert_passed(results: dict, name: str) -> None:
    failures = {rank: error for rank, error in results[name].items() if error}
    assert not failures, "\n".join(f"rank {rank}:\n{error}" for rank, error in failures.items())


@needs_mpi
@pytest.mark.parametrize("name", COLLECTIVES + DDP + ["groups_of_some_ranks"])
def test_two_processes(name, two_process_results):
    _assert_passed(two_process_results, name)


@needs_mpi
@pytest.mark.parametrize("name", FOUR)
def test_four_processes(name, four_process_results):
    _assert_passed(four_process_results, name)


@needs_mpi
def test_a_failing_rank_stops_the_job_under_the_launcher(tmp_path):
    script = tmp_path / "fails.py"
    script.write_text(FAILING_RANK)
    code, output, seconds = run_job(
        [sys.executable, "-m", "retrograd.distributed.run", "--nproc-per-node", "2", str(script)], 60)
    assert code != 0, output
    assert "ValueError: rank 1 cannot go on" in output, output
    assert "[rank1]:" in output and "unreachable" not in output, output
    assert seconds < 30, output  # not the 120 s collective timeout


@needs_mpi
def test_a_failing_rank_stops_the_job_under_plain_mpiexec(tmp_path):
    script = tmp_path / "fails.py"
    script.write_text(FAILING_RANK)
    code, output, seconds = run_job([_mpiexec(), "-n", "2", sys.executable, str(script)], 60)
    assert code != 0, output
    assert "ValueError: rank 1 cannot go on" in output and "MPI_Abort" in output, output
    assert seconds < 30, output


@needs_mpi
def test_a_rank_that_leaves_makes_the_others_time_out(tmp_path):
    script = tmp_path / "leaves.py"
    script.write_text(SILENT_EXIT)
    code, output, seconds = run_job([_mpiexec(), "-n", "2", sys.executable, str(script)], 60)
    assert code != 0, output
    assert "all_reduce timed out after 3 s" in output, output
    assert seconds < 30, output


@needs_mpi
def test_launcher_dry_run_shows_the_mpiexec_command():
    code, output, _ = run_job(
        [sys.executable, "-m", "retrograd.distributed.run", "--nproc_per_node=3", "--master_port", "29501",
         "--dry-run", "train.py", "--epochs", "2"], 30)
    assert code == 0
    assert "-n 3" in output
    assert output.strip().endswith("-m retrograd.distributed._bootstrap train.py --epochs 2")


@needs_mpi
def test_launcher_passes_a_hostfile_to_mpiexec(tmp_path):
    hosts = tmp_path / "hosts"
    hosts.write_text("node1:4\nnode2:4\n")
    code, output, _ = run_job(
        [sys.executable, "-m", "retrograd.distributed.run", "--nnodes", "2", "--nproc-per-node", "4",
         "--hostfile", str(hosts), "--dry-run", "train.py"], 30)
    assert code == 0, output
    assert f"-n 8 -f {hosts} -ppn 4 " in output  # MPICH's Hydra: 4 processes on each machine


def test_importing_retrograd_distributed_does_not_start_mpi():
    code = subprocess.run(
        [sys.executable, "-c", "import sys, retrograd; "  # retrograd.distributed comes along, as in torch
         "print('mpi4py.MPI' in sys.modules, retrograd.distributed.is_initialized())"],
        capture_output=True, text=True, env=_environment(), timeout=60)
    assert code.stdout.split() == ["False", "False"], code.stderr


def test_uninitialized_group_is_an_error():
    import retrograd.distributed as dist

    with pytest.raises(ValueError, match="Default process group has not been initialized"):
        dist.get_rank()
    with pytest.raises(ValueError, match="Default process group has not been initialized"):
        dist.all_reduce(_torch().ones(2))


if __name__ == "__main__":
    _worker(sys.argv[1], sys.argv[2:])
