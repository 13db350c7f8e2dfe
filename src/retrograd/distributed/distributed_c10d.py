"""Process groups and collectives on tensors, over MPI (mpi4py), with PyTorch's API.

Every collective works in place on the tensors it is given, as `torch.distributed`'s do,
and records no autograd history (the differentiable forms are in
`retrograd.distributed.nn`). Each one is an MPI non-blocking call: with `async_op=True`
the caller gets the `Work` handle, otherwise the call waits on it before returning.

Note [Waiting with a deadline]
    A blocking MPI call waits forever if a peer never arrives (it raised, exited, or
    called a different collective). So every wait here, blocking or not, polls the MPI
    request with a deadline: the group's `timeout` (30 minutes by default, as PyTorch's).
    Past it, the wait raises RuntimeError naming the operation and the ranks. Polling
    spins for 0.5 ms (as MPI's own blocking calls spin: the fastest when every process
    has a core), then yields the CPU between polls (`time.sleep(0)`), then, after 50 ms,
    sleeps 1 ms between polls: on a machine with fewer cores than processes a waiter that
    kept spinning would steal the time its peers need to arrive (four processes on two
    cores ran small all-reduces 20 times slower spinning than yielding). Polling also
    drives MPI's progress engine, which without a progress thread advances only inside
    MPI calls.

Note [A failing rank stops the job]
    When the group spans several processes, `init_process_group` installs an exception
    hook: an exception that escapes the script on one rank prints its traceback
    (prefixed `[rankN]:`) and calls MPI_Abort, and the MPI launcher then ends every
    other rank at once, instead of leaving them blocked in their next collective.
"""

from __future__ import annotations

import datetime
import pickle
import sys
import time
import traceback
import warnings

import numpy as np

from .._tensor import Tensor
from . import _mpi

__all__ = [
    "Backend",
    "GroupMember",
    "ProcessGroup",
    "ReduceOp",
    "Work",
    "all_gather",
    "all_gather_into_tensor",
    "all_gather_object",
    "all_reduce",
    "barrier",
    "broadcast",
    "broadcast_object_list",
    "destroy_process_group",
    "gather",
    "gather_object",
    "get_backend",
    "get_global_rank",
    "get_group_rank",
    "get_process_group_ranks",
    "get_rank",
    "get_world_size",
    "group",
    "init_process_group",
    "irecv",
    "is_initialized",
    "is_mpi_available",
    "isend",
    "new_group",
    "recv",
    "reduce",
    "reduce_scatter",
    "reduce_scatter_tensor",
    "scatter",
    "send",
]

default_pg_timeout = datetime.timedelta(minutes=30)


class Backend(str):
    """The name of a communication backend. retrograd has one: MPI.

    `"gloo"` is accepted as well and runs on MPI, so CPU programs written for PyTorch's
    gloo backend run unchanged.
    """

    UNDEFINED = "undefined"
    GLOO = "gloo"
    NCCL = "nccl"
    MPI = "mpi"

    def __new__(cls, name: str):
        if not isinstance(name, str):
            raise ValueError(f"Backend constructor parameter must be string-ish, but got: {type(name)}")
        return super().__new__(cls, name.lower())


class _RedOpType:
    __slots__ = ("name", "value")

    def __init__(self, name: str, value: int):
        self.name = name
        self.value = value

    def __repr__(self) -> str:
        return f"<RedOpType.{self.name}: {self.value}>"


class ReduceOp:
    """How a reduction combines the ranks' values: `ReduceOp.SUM`, `AVG`, `MAX`, ..."""

    SUM = _RedOpType("SUM", 0)
    AVG = _RedOpType("AVG", 1)
    PRODUCT = _RedOpType("PRODUCT", 2)
    MIN = _RedOpType("MIN", 3)
    MAX = _RedOpType("MAX", 4)
    BAND = _RedOpType("BAND", 5)
    BOR = _RedOpType("BOR", 6)
    BXOR = _RedOpType("BXOR", 7)


class ProcessGroup:
    """A set of ranks that run collectives together: an MPI communicator and its ranks."""

    def __init__(self, comm, ranks: list[int], timeout: datetime.timedelta, name: str):
        self._comm = comm
        self._ranks = list(ranks)
        self._timeout = timeout
        self._name = name

    def rank(self) -> int:
        return self._comm.Get_rank()

    def size(self) -> int:
        return len(self._ranks)

    def name(self) -> str:
        return self._name

    @property
    def group_name(self) -> str:
        return self._name

    def __repr__(self) -> str:
        return f"ProcessGroup(backend='mpi', ranks={self._ranks})"


class _NonGroupMember:
    def __repr__(self) -> str:
        return "GroupMember.NON_GROUP_MEMBER"


class GroupMember:
    """`GroupMember.WORLD` (the default group) and the marker of ranks outside a group."""

    WORLD: ProcessGroup | None = None
    NON_GROUP_MEMBER = _NonGroupMember()


class group:
    """`dist.group.WORLD`: the default process group once initialised."""

    WORLD: ProcessGroup | None = None


class _State:
    default: ProcessGroup | None = None
    groups: list[ProcessGroup] = []  # noqa: RUF012 (one process-wide registry)
    previous_excepthook = None
    group_count = 0


_state = _State()


# ---------------------------------------------------------------------------
# Setting up


def is_available() -> bool:
    """Whether distributed training can run here (mpi4py and an MPI library are installed)."""
    return _mpi.is_available()


def is_mpi_available() -> bool:
    return _mpi.is_available()


def is_gloo_available() -> bool:
    return False


def is_nccl_available() -> bool:
    return False


def is_initialized() -> bool:
    """Whether `init_process_group` has been called (and not destroyed)."""
    return _state.default is not None


def _as_timedelta(timeout) -> datetime.timedelta:
    if timeout is None:
        return default_pg_timeout
    if isinstance(timeout, datetime.timedelta):
        return timeout
    if isinstance(timeout, int | float):
        return datetime.timedelta(seconds=timeout)
    raise TypeError(f"Expected timeout argument to be of type datetime.timedelta, got {type(timeout)}")


def init_process_group(backend=None, init_method=None, timeout=None, world_size: int = -1,
                       rank: int = -1, store=None, group_name: str = "", pg_options=None,
                       device_id=None) -> None:
    """Join the default process group: every process started by the MPI launcher.

    Rank and world size come from MPI (`mpiexec -n 2 python train.py`, or
    `python -m retrograd.distributed.run --nproc-per-node 2 train.py`); `world_size` and
    `rank`, when given, must agree with them. `init_method` and `store` are not needed:
    MPI's launcher has already connected the processes. Run without a launcher, the
    script is a group of one.
    """
    if _state.default is not None:
        raise ValueError("trying to initialize the default process group twice!")
    name = "mpi" if backend is None else Backend(str(backend).split(":")[-1])
    if name not in (Backend.MPI, Backend.GLOO):
        raise RuntimeError(
            f"retrograd.distributed runs on MPI: use backend='mpi' (or 'gloo', which runs on MPI), "
            f"not '{backend}'"
        )
    timeout = _as_timedelta(timeout)
    MPI = _mpi.mpi()
    world = MPI.COMM_WORLD
    size, own_rank = world.Get_size(), world.Get_rank()
    if world_size not in (-1, None) and world_size != size:
        raise ValueError(
            f"world_size={world_size} was given, but the MPI launcher started {size} processes"
        )
    if rank not in (-1, None) and rank != own_rank:
        raise ValueError(f"rank={rank} was given, but MPI says this process is rank {own_rank}")
    default = ProcessGroup(world.Dup(), list(range(size)), timeout, group_name or "0")
    _state.default = default
    _state.groups = [default]
    _state.group_count = 1
    GroupMember.WORLD = default
    group.WORLD = default
    if size > 1 and _state.previous_excepthook is None:
        _state.previous_excepthook = sys.excepthook
        sys.excepthook = _abort_on_uncaught_exception


def _abort_on_uncaught_exception(kind, value, trace) -> None:
    """See Note [A failing rank stops the job]."""
    MPI = _mpi.mpi()
    rank = MPI.COMM_WORLD.Get_rank()
    text = "".join(traceback.format_exception(kind, value, trace))
    sys.stderr.write("".join(f"[rank{rank}]: {line}\n" for line in text.rstrip("\n").split("\n")))
    sys.stderr.write(
        f"[rank{rank}]: retrograd.distributed: rank {rank} failed; stopping all "
        f"{MPI.COMM_WORLD.Get_size()} ranks (MPI_Abort)\n"
    )
    sys.stderr.flush()
    sys.stdout.flush()
    time.sleep(0.2)  # let the launcher forward the traceback before it stops every process
    MPI.COMM_WORLD.Abort(1)


def destroy_process_group(group=None) -> None:
    """Leave `group`, or every group (and the default one) when `group` is None."""
    if group is None or group is _state.default:
        if _state.default is None:
            raise ValueError("Default process group has not been initialized, please make sure to "
                             "call init_process_group.")
        for member in _state.groups:
            if member._comm is not None:
                member._comm.Free()
                member._comm = None
        _state.default = None
        _state.groups = []
        GroupMember.WORLD = None
        globals()["group"].WORLD = None
        if _state.previous_excepthook is not None:
            sys.excepthook = _state.previous_excepthook
            _state.previous_excepthook = None
        return
    if group is GroupMember.NON_GROUP_MEMBER:
        return
    if group in _state.groups:
        _state.groups.remove(group)
        group._comm.Free()
        group._comm = None


def _default_group() -> ProcessGroup:
    if _state.default is None:
        raise ValueError(
            "Default process group has not been initialized, please make sure to call "
            "init_process_group."
        )
    return _state.default


def new_group(ranks=None, timeout=None, backend=None, pg_options=None,
              use_local_synchronization: bool = False, group_desc=None):
    """A group of some of the ranks; every rank of the world calls this, as in PyTorch.

    Ranks outside the group get `GroupMember.NON_GROUP_MEMBER`.
    """
    world = _default_group()
    size = world.size()
    ranks = sorted(range(size) if ranks is None else ranks)
    for member in ranks:
        if not 0 <= member < size:
            raise ValueError(
                f"The new group's rank should be within the world_size set by init_process_group, "
                f"but got rank {member} with world_size {size}"
            )
    if len(set(ranks)) != len(ranks):
        raise ValueError(f"new_group got duplicate ranks: {ranks}")
    _state.group_count += 1
    timeout = world._timeout if timeout is None else _as_timedelta(timeout)
    comm = world._comm.Create(world._comm.Get_group().Incl(ranks))
    if world.rank() not in ranks:
        return GroupMember.NON_GROUP_MEMBER
    created = ProcessGroup(comm, ranks, timeout, str(_state.group_count - 1))
    _state.groups.append(created)
    return created


def _resolve(group, operation: str) -> ProcessGroup | None:
    """The process group to use, or None when this rank is not in it (PyTorch warns)."""
    if group is None or group is GroupMember.WORLD:
        return _default_group()
    if group is GroupMember.NON_GROUP_MEMBER:
        warnings.warn(
            f"Running {operation} on global rank {get_rank()} which does not belong to the given "
            "group.",
            stacklevel=3,
        )
        return None
    if not isinstance(group, ProcessGroup) or group._comm is None:
        raise ValueError(f"{operation}: invalid or destroyed process group {group!r}")
    return group


def get_rank(group=None) -> int:
    """This process's rank in `group` (the default group when None); -1 outside it."""
    if group is GroupMember.NON_GROUP_MEMBER:
        return -1
    return (group or _default_group()).rank()


def get_world_size(group=None) -> int:
    """How many processes `group` has (the default group when None); -1 outside it."""
    if group is GroupMember.NON_GROUP_MEMBER:
        return -1
    return (group or _default_group()).size()


def get_backend(group=None) -> str:
    _default_group()
    return Backend.MPI


def get_process_group_ranks(group) -> list[int]:
    """The global ranks of the members of `group`."""
    return list((group or _default_group())._ranks)


def get_global_rank(group, group_rank: int) -> int:
    pg = group or _default_group()
    if not 0 <= group_rank < pg.size():
        raise ValueError(f"Group rank {group_rank} is not part of group {pg!r}")
    return pg._ranks[group_rank]


def get_group_rank(group, global_rank: int) -> int:
    pg = group or _default_group()
    if global_rank not in pg._ranks:
        raise ValueError(f"Global rank {global_rank} is not part of group {pg!r}")
    return pg._ranks.index(global_rank)


# ---------------------------------------------------------------------------
# Waiting


_SPIN_SECONDS = 0.0005  # then yield the CPU; see Note [Waiting with a deadline]


def _wait_requests(requests: list, pg: ProcessGroup, operation: str, timeout=None) -> list:
    """Wait for every MPI request, with a deadline; see Note [Waiting with a deadline]."""
    MPI = _mpi.mpi()
    limit = (pg._timeout if timeout is None else _as_timedelta(timeout)).total_seconds()
    statuses = [MPI.Status() for _ in requests]
    pending = list(range(len(requests)))
    start = time.monotonic()
    polls = 0
    while True:
        pending = [index for index in pending if not requests[index].Test(statuses[index])]
        if not pending:
            return statuses
        polls += 1
        if polls & 15:
            continue
        elapsed = time.monotonic() - start
        if elapsed < _SPIN_SECONDS:
            continue
        if elapsed > limit:
            raise RuntimeError(
                f"[rank{_default_group().rank()}] {operation} timed out after {limit:g} s waiting for "
                f"the other ranks of its group (ranks {pg._ranks}): another rank may have failed, "
                "exited, or not called the same collective. The limit is the timeout given to "
                "init_process_group (or new_group)."
            )
        time.sleep(0 if elapsed < 0.05 else 0.001)


class Work:
    """A collective in flight (`async_op=True`): `wait()` for it, or poll `is_completed()`."""

    def __init__(self, requests: list, pg: ProcessGroup, operation: str, finish=None,
                 outputs: list | None = None):
        self._requests = requests
        self._pg = pg
        self._operation = operation
        self._finish = finish
        self._outputs = outputs or []
        self._done = False
        self._statuses = None
        self._exception = None

    def _complete(self, statuses) -> None:
        self._statuses = statuses
        self._done = True
        if self._finish is not None:
            self._finish(statuses)

    def is_completed(self) -> bool:
        """Whether the operation has finished (its results are in place once this is True)."""
        if self._done:
            return True
        MPI = _mpi.mpi()
        statuses = [MPI.Status() for _ in self._requests]
        if all(request.Test(status) for request, status in zip(self._requests, statuses)):
            self._complete(statuses)
        return self._done

    def wait(self, timeout=None) -> bool:
        """Block until the operation has finished; RuntimeError past the timeout."""
        if not self._done:
            if timeout is not None and _as_timedelta(timeout).total_seconds() == 0:
                timeout = None
            try:
                statuses = _wait_requests(self._requests, self._pg, self._operation, timeout)
            except RuntimeError as error:
                self._exception = error
                raise
            self._exception = None
            self._complete(statuses)
        return True

    def is_success(self) -> bool:
        return self._done and self._exception is None

    def exception(self):
        return self._exception

    def result(self) -> list[Tensor]:
        return list(self._outputs)

    def source_rank(self) -> int:
        """For a `recv` from any source: the global rank that sent the message."""
        if not self._done or self._statuses is None:
            raise RuntimeError("source_rank is known once the receive has completed (call wait())")
        return self._pg._ranks[self._statuses[0].Get_source()]

    def synchronize(self) -> None:
        self.wait()


def _run(work: Work, async_op: bool):
    if async_op:
        return work
    work.wait()
    return None


# ---------------------------------------------------------------------------
# Buffers: what MPI reads and writes for a tensor


def _check_tensor(tensor, name: str) -> None:
    if not isinstance(tensor, Tensor):
        raise TypeError(
            f"Invalid function argument. Expected parameter `{name}` of type torch.Tensor\n"
            f"             but got {type(tensor)} instead."
        )


def _check_tensor_list(tensors, name: str) -> None:
    if not isinstance(tensors, list | tuple) or not all(isinstance(t, Tensor) for t in tensors):
        raise TypeError(
            f"Invalid function argument. Expected parameter `{name}` of type List[torch.Tensor]\n"
            "             but got " + f"{type(tensors)} instead."
        )


class _Buffer:
    """A C-contiguous array that MPI uses in place of `tensor`'s data.

    It is the tensor's own array when that is contiguous and of a type MPI reduces;
    otherwise a copy, written back by `finish()`. `finish()` also bumps the tensor's
    version: the collective changed it in place.
    """

    __slots__ = ("array", "copied", "tensor")

    def __init__(self, tensor: Tensor, reduce: bool = False):
        data = tensor._data
        wanted = _mpi._REDUCE_AS.get(data.dtype, data.dtype) if reduce else data.dtype
        self.tensor = tensor
        if data.flags.c_contiguous and data.flags.writeable and data.dtype == wanted:
            self.array = data
            self.copied = False
        else:
            self.array = np.ascontiguousarray(data, dtype=wanted)
            self.copied = True

    def finish(self) -> None:
        if self.copied:
            np.copyto(self.tensor._data, self.array.reshape(self.tensor._data.shape), casting="unsafe")
        self.tensor._bump_version()


def _send_array(tensor: Tensor, reduce: bool = False) -> np.ndarray:
    data = tensor._data
    wanted = _mpi._REDUCE_AS.get(data.dtype, data.dtype) if reduce else data.dtype
    return np.ascontiguousarray(data, dtype=wanted)


_BOOL_OPS = {"SUM": "LOR", "MAX": "LOR", "BOR": "LOR", "MIN": "LAND", "PRODUCT": "LAND",
             "BAND": "LAND", "BXOR": "LXOR"}
_MPI_OPS = {"SUM": "SUM", "AVG": "SUM", "PRODUCT": "PROD", "MIN": "MIN", "MAX": "MAX",
            "BAND": "BAND", "BOR": "BOR", "BXOR": "BXOR"}


def _mpi_op(op, dtype: np.dtype, operation: str):
    """The MPI operation for `op` on `dtype`, and whether AVG's division follows."""
    if not isinstance(op, _RedOpType):
        raise TypeError(f"{operation}: op must be a ReduceOp (ReduceOp.SUM, ...), not {op!r}")
    MPI = _mpi.mpi()
    if dtype == np.bool_:
        if op.name == "AVG":
            raise RuntimeError(f"{operation}: ReduceOp.AVG is not supported for bool tensors")
        return getattr(MPI, _BOOL_OPS[op.name]), False
    if op.name in ("BAND", "BOR", "BXOR") and dtype.kind == "f":
        raise RuntimeError(f"{operation}: ReduceOp.{op.name} needs an integer tensor, not a floating one")
    return getattr(MPI, _MPI_OPS[op.name]), op.name == "AVG"


def _divide(array: np.ndarray, size: int) -> None:
    if array.dtype.kind == "f":
        array /= size
    else:
        np.floor_divide(array, size, out=array)


def _group_rank(pg: ProcessGroup, global_rank: int, role: str) -> int:
    if global_rank not in pg._ranks:
        raise ValueError(f"Invalid {role} rank {global_rank}: it is not part of group {pg!r}")
    return pg._ranks.index(global_rank)


# ---------------------------------------------------------------------------
# Collectives


def all_reduce(tensor: Tensor, op=ReduceOp.SUM, group=None, async_op: bool = False):
    """Reduce `tensor` across the group, in place on every rank (SUM by default)."""
    pg = _resolve(group, "all_reduce")
    if pg is None:
        return None
    _check_tensor(tensor, "tensor")
    MPI = _mpi.mpi()
    buffer = _Buffer(tensor, reduce=True)
    mpi_op, average = _mpi_op(op, buffer.array.dtype, "all_reduce")
    request = pg._comm.Iallreduce(MPI.IN_PLACE, buffer.array, op=mpi_op)

    def finish(_):
        if average:
            _divide(buffer.array, pg.size())
        buffer.finish()

    return _run(Work([request], pg, "all_reduce", finish, [tensor]), async_op)


def broadcast(tensor: Tensor, src: int | None = None, group=None, async_op: bool = False,
              group_src: int | None = None):
    """Copy `tensor` from rank `src` (a global rank) to every rank of the group."""
    pg = _resolve(group, "broadcast")
    if pg is None:
        return None
    _check_tensor(tensor, "tensor")
    root = group_src if group_src is not None else _group_rank(pg, 0 if src is None else src, "source")
    buffer = _Buffer(tensor)
    request = pg._comm.Ibcast(buffer.array, root=root)
    return _run(Work([request], pg, "broadcast", lambda _: buffer.finish(), [tensor]), async_op)


def _check_same(tensors: list, like: Tensor, operation: str, name: str) -> None:
    for tensor in tensors:
        if tensor.shape != like.shape or tensor.dtype is not like.dtype:
            raise RuntimeError(
                f"{operation}: every tensor of `{name}` must have the shape and dtype of the input "
                f"({list(like.shape)}, {like.dtype}), got {list(tensor.shape)}, {tensor.dtype}"
            )


def all_gather(tensor_list: list, tensor: Tensor, group=None, async_op: bool = False):
    """Fill `tensor_list[r]` with rank r's `tensor`, on every rank."""
    pg = _resolve(group, "all_gather")
    if pg is None:
        return None
    _check_tensor_list(tensor_list, "tensor_list")
    _check_tensor(tensor, "tensor")
    if len(tensor_list) != pg.size():
        raise ValueError(
            f"all_gather: tensor_list must have one tensor per rank ({pg.size()}), got {len(tensor_list)}"
        )
    _check_same(tensor_list, tensor, "all_gather", "tensor_list")
    received = np.empty((pg.size(), *tensor._data.shape), dtype=tensor._data.dtype)
    request = pg._comm.Iallgather(_send_array(tensor), received)

    def finish(_):
        for index, output in enumerate(tensor_list):
            np.copyto(output._data, received[index])
            output._bump_version()

    return _run(Work([request], pg, "all_gather", finish, list(tensor_list)), async_op)


def all_gather_into_tensor(output_tensor: Tensor, input_tensor: Tensor, group=None,
                           async_op: bool = False):
    """Gather every rank's `input_tensor` into `output_tensor`, concatenated (or stacked)
    along the first dimension."""
    pg = _resolve(group, "all_gather_into_tensor")
    if pg is None:
        return None
    _check_tensor(output_tensor, "output_tensor")
    _check_tensor(input_tensor, "input_tensor")
    if output_tensor.numel() != pg.size() * input_tensor.numel():
        raise ValueError("output tensor size must be equal to world_size times input tensor size")
    if output_tensor.dtype is not input_tensor.dtype:
        raise ValueError("output tensor must have the same type as input tensor")
    buffer = _Buffer(output_tensor)
    request = pg._comm.Iallgather(_send_array(input_tensor), buffer.array.reshape(-1))
    return _run(Work([request], pg, "all_gather_into_tensor", lambda _: buffer.finish(),
                     [output_tensor]), async_op)


def reduce_scatter(output: Tensor, input_list: list, op=ReduceOp.SUM, group=None,
                   async_op: bool = False):
    """Reduce `input_list[r]` across ranks into rank r's `output`."""
    pg = _resolve(group, "reduce_scatter")
    if pg is None:
        return None
    _check_tensor(output, "output")
    _check_tensor_list(input_list, "input_list")
    if len(input_list) != pg.size():
        raise ValueError(
            f"reduce_scatter: input_list must have one tensor per rank ({pg.size()}), got {len(input_list)}"
        )
    _check_same(input_list, output, "reduce_scatter", "input_list")
    buffer = _Buffer(output, reduce=True)
    send = np.concatenate([
        np.ascontiguousarray(item._data, dtype=buffer.array.dtype).reshape(-1) for item in input_list
    ])
    return _reduce_scatter_block(pg, send, buffer, op, "reduce_scatter", async_op)


def reduce_scatter_tensor(output: Tensor, input: Tensor, op=ReduceOp.SUM, group=None,
                          async_op: bool = False):
    """Reduce `input` (one block per rank along the first dimension) across ranks; rank r
    keeps block r in `output`."""
    pg = _resolve(group, "reduce_scatter_tensor")
    if pg is None:
        return None
    _check_tensor(output, "output")
    _check_tensor(input, "input")
    if input.numel() != pg.size() * output.numel():
        raise ValueError("input tensor must be the same size as output size times world size")
    buffer = _Buffer(output, reduce=True)
    send = np.ascontiguousarray(input._data, dtype=buffer.array.dtype).reshape(-1)
    return _reduce_scatter_block(pg, send, buffer, op, "reduce_scatter_tensor", async_op)


def _reduce_scatter_block(pg, send, buffer, op, operation, async_op):
    mpi_op, average = _mpi_op(op, buffer.array.dtype, operation)
    request = pg._comm.Ireduce_scatter_block(send, buffer.array.reshape(-1), op=mpi_op)

    def finish(_):
        if average:
            _divide(buffer.array, pg.size())
        buffer.finish()

    return _run(Work([request], pg, operation, finish, [buffer.tensor]), async_op)


def reduce(tensor: Tensor, dst: int | None = None, op=ReduceOp.SUM, group=None,
           async_op: bool = False, group_dst: int | None = None):
    """Reduce `tensor` across the group into rank `dst`'s tensor (others keep theirs)."""
    pg = _resolve(group, "reduce")
    if pg is None:
        return None
    _check_tensor(tensor, "tensor")
    MPI = _mpi.mpi()
    root = group_dst if group_dst is not None else _group_rank(pg, 0 if dst is None else dst, "destination")
    buffer = _Buffer(tensor, reduce=True)
    mpi_op, average = _mpi_op(op, buffer.array.dtype, "reduce")
    is_root = pg.rank() == root
    if is_root:
        request = pg._comm.Ireduce(MPI.IN_PLACE, buffer.array, op=mpi_op, root=root)
    else:
        request = pg._comm.Ireduce(buffer.array, None, op=mpi_op, root=root)

    def finish(_):
        if is_root:
            if average:
                _divide(buffer.array, pg.size())
            buffer.finish()

    return _run(Work([request], pg, "reduce", finish, [tensor]), async_op)


def gather(tensor: Tensor, gather_list: list | None = None, dst: int | None = None, group=None,
           async_op: bool = False, group_dst: int | None = None):
    """Collect every rank's `tensor` into `gather_list` on rank `dst`."""
    pg = _resolve(group, "gather")
    if pg is None:
        return None
    _check_tensor(tensor, "tensor")
    root = group_dst if group_dst is not None else _group_rank(pg, 0 if dst is None else dst, "destination")
    is_root = pg.rank() == root
    received = None
    if is_root:
        if not gather_list:
            raise ValueError("Argument ``gather_list`` must be specified on destination rank.")
        _check_tensor_list(gather_list, "gather_list")
        if len(gather_list) != pg.size():
            raise ValueError(
                f"gather: gather_list must have one tensor per rank ({pg.size()}), got {len(gather_list)}"
            )
        _check_same(gather_list, tensor, "gather", "gather_list")
        received = np.empty((pg.size(), *tensor._data.shape), dtype=tensor._data.dtype)
    elif gather_list:
        raise ValueError("Argument ``gather_list`` must NOT be specified on non-destination ranks.")
    request = pg._comm.Igather(_send_array(tensor), received, root=root)

    def finish(_):
        if is_root:
            for index, output in enumerate(gather_list):
                np.copyto(output._data, received[index])
                output._bump_version()

    return _run(Work([request], pg, "gather", finish, list(gather_list or [])), async_op)


def scatter(tensor: Tensor, scatter_list: list | None = None, src: int | None = None, group=None,
            async_op: bool = False, group_src: int | None = None):
    """Rank `src` sends `scatter_list[r]` to rank r, which receives it into `tensor`."""
    pg = _resolve(group, "scatter")
    if pg is None:
        return None
    _check_tensor(tensor, "tensor")
    root = group_src if group_src is not None else _group_rank(pg, 0 if src is None else src, "source")
    send = None
    if pg.rank() == root:
        if not scatter_list:
            raise ValueError("Argument ``scatter_list`` must be specified on source rank.")
        _check_tensor_list(scatter_list, "scatter_list")
        if len(scatter_list) != pg.size():
            raise ValueError(
                f"scatter: scatter_list must have one tensor per rank ({pg.size()}), got {len(scatter_list)}"
            )
        _check_same(scatter_list, tensor, "scatter", "scatter_list")
        send = np.stack([item._data for item in scatter_list])
    elif scatter_list:
        raise ValueError("Argument ``scatter_list`` must NOT be specified on non-source ranks.")
    buffer = _Buffer(tensor)
    request = pg._comm.Iscatter(send, buffer.array, root=root)
    return _run(Work([request], pg, "scatter", lambda _: buffer.finish(), [tensor]), async_op)


def barrier(group=None, async_op: bool = False, device_ids=None):
    """Wait until every rank of the group has reached this call."""
    pg = _resolve(group, "barrier")
    if pg is None:
        return None
    return _run(Work([pg._comm.Ibarrier()], pg, "barrier"), async_op)


# ---------------------------------------------------------------------------
# Point to point


def _peer(pg: ProcessGroup, peer: int, role: str) -> int:
    if peer == get_rank():
        raise ValueError(
            f"Invalid {role} rank: {role} rank should not be the same as the rank of the current process."
        )
    return _group_rank(pg, peer, role)


def isend(tensor: Tensor, dst: int | None = None, group=None, tag: int = 0, group_dst=None):
    """Start sending `tensor` to rank `dst`; returns a Work handle."""
    pg = _resolve(group, "isend")
    if pg is None:
        return None
    _check_tensor(tensor, "tensor")
    peer = group_dst if group_dst is not None else _peer(pg, dst, "destination")
    data = _send_array(tensor)
    request = pg._comm.Isend(data, dest=peer, tag=tag)
    return Work([request], pg, "send", lambda _: data, [tensor])


def irecv(tensor: Tensor, src: int | None = None, group=None, tag: int = 0, group_src=None):
    """Start receiving into `tensor` from rank `src` (any rank when None); returns Work."""
    pg = _resolve(group, "irecv")
    if pg is None:
        return None
    _check_tensor(tensor, "tensor")
    MPI = _mpi.mpi()
    if group_src is not None:
        peer = group_src
    elif src is None:
        peer = MPI.ANY_SOURCE
    else:
        peer = _peer(pg, src, "source")
    buffer = _Buffer(tensor)
    request = pg._comm.Irecv(buffer.array, source=peer, tag=tag)
    return Work([request], pg, "recv", lambda _: buffer.finish(), [tensor])


def send(tensor: Tensor, dst: int | None = None, group=None, tag: int = 0, group_dst=None) -> None:
    """Send `tensor` to rank `dst` and wait until it has been taken."""
    work = isend(tensor, dst, group, tag, group_dst)
    if work is not None:
        work.wait()


def recv(tensor: Tensor, src: int | None = None, group=None, tag: int = 0, group_src=None) -> int:
    """Receive into `tensor` from rank `src` (any rank when None); returns the sender's rank."""
    work = irecv(tensor, src, group, tag, group_src)
    if work is None:
        return -1
    work.wait()
    return work.source_rank()


# ---------------------------------------------------------------------------
# Python objects (pickled), and the byte transfers under them, with deadlines


def _allgather_bytes(comm, pg: ProcessGroup, payload: bytes, operation: str) -> list[bytes]:
    """Every rank's `payload`, on every rank: sizes first, then the bytes (both with deadlines)."""
    sizes = np.zeros(pg.size(), dtype=np.int64)
    _wait_requests([comm.Iallgather(np.array([len(payload)], dtype=np.int64), sizes)], pg, operation)
    offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
    received = np.empty(int(sizes.sum()), dtype=np.uint8)
    sent = np.frombuffer(payload, dtype=np.uint8)
    request = comm.Iallgatherv(sent, [received, (sizes.tolist(), offsets.tolist())])
    _wait_requests([request], pg, operation)
    return [received[offset:offset + size].tobytes() for offset, size in zip(offsets, sizes)]


def _broadcast_bytes(comm, pg: ProcessGroup, payload: bytes | None, root: int, operation: str) -> bytes:
    """Rank `root`'s `payload` (a group rank), on every rank."""
    size = np.array([len(payload) if payload is not None else 0], dtype=np.int64)
    _wait_requests([comm.Ibcast(size, root=root)], pg, operation)
    data = (np.frombuffer(payload, dtype=np.uint8).copy() if payload is not None
            else np.empty(int(size[0]), dtype=np.uint8))
    _wait_requests([comm.Ibcast(data, root=root)], pg, operation)
    return data.tobytes()


def broadcast_object_list(object_list: list, src: int | None = None, group=None, device=None,
                          group_src=None) -> None:
    """Replace `object_list`'s items, on every rank, by those of rank `src` (pickled)."""
    pg = _resolve(group, "broadcast_object_list")
    if pg is None:
        return
    root = group_src if group_src is not None else _group_rank(pg, 0 if src is None else src, "source")
    payload = pickle.dumps(list(object_list)) if pg.rank() == root else None
    object_list[:] = pickle.loads(_broadcast_bytes(pg._comm, pg, payload, root, "broadcast_object_list"))


def all_gather_object(object_list: list, obj, group=None) -> None:
    """Fill `object_list[r]` with rank r's `obj` (pickled), on every rank."""
    pg = _resolve(group, "all_gather_object")
    if pg is None:
        return
    if len(object_list) != pg.size():
        raise ValueError(
            f"all_gather_object: object_list must have one slot per rank ({pg.size()}), "
            f"got {len(object_list)}"
        )
    payloads = _allgather_bytes(pg._comm, pg, pickle.dumps(obj), "all_gather_object")
    object_list[:] = [pickle.loads(payload) for payload in payloads]


def gather_object(obj, object_gather_list: list | None = None, dst: int | None = None, group=None,
                  group_dst=None) -> None:
    """Collect every rank's `obj` (pickled) into `object_gather_list` on rank `dst`."""
    pg = _resolve(group, "gather_object")
    if pg is None:
        return
    root = group_dst if group_dst is not None else _group_rank(pg, 0 if dst is None else dst, "destination")
    is_root = pg.rank() == root
    if is_root and (object_gather_list is None or len(object_gather_list) != pg.size()):
        raise ValueError("Argument ``object_gather_list`` must be specified on destination rank, "
                         "with one slot per rank.")
    payloads = _allgather_bytes(pg._comm, pg, pickle.dumps(obj), "gather_object")
    if is_root:
        object_gather_list[:] = [pickle.loads(payload) for payload in payloads]
