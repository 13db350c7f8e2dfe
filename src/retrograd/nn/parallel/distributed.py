"""`DistributedDataParallel`: the same model in every process, gradients averaged in backward.

Each process runs the model on its own part of the batch. Backward computes local
gradients; DDP averages them across processes while backward is still running, so that
after `loss.backward()` every process holds the gradient of the mean loss over the
whole batch, and identical optimizer steps keep the replicas identical.

Note [Buckets and overlap]
    Parameters are grouped into buckets of about `bucket_cap_mb` (the first bucket is
    smaller, at most 1 MiB, so communication starts early), in the reverse order of
    `model.parameters()`: backward produces the last layer's gradients first. After the
    first iteration the buckets are rebuilt once, in the order gradients actually
    arrived on rank 0 (broadcast, so every rank has the same buckets).
    A post-accumulate-grad hook on every parameter counts the gradients still missing
    from its bucket; when the count reaches zero the bucket's gradients are copied into
    one flat array, divided by the world size and all-reduced with a non-blocking MPI
    call, while backward goes on computing earlier layers. Buckets are launched in
    bucket order on every rank (MPI requires the same order of collectives everywhere),
    so a bucket that fills early waits for the ones before it. When the last bucket has
    been launched, the hook waits for all of them and writes the averages back into `.grad`.

Note [MPI progress during backward]
    An MPI implementation without a progress thread of its own moves a non-blocking
    all-reduce forward only while the process is inside an MPI call. Backward spends its
    time in NumPy (which releases the GIL), not in MPI, so a bucket launched early would sit
    half-sent until the final wait. DDP therefore polls the buckets in flight at every
    gradient hook and, between hooks, from a small thread that tests them every 0.2 ms
    while any is in flight (MPI_THREAD_MULTIPLE, which mpi4py asks for; without it only
    the hooks poll). One lock serialises every launch and every test of a request.

Note [Unused parameters]
    A parameter that gets no gradient in an iteration would leave its bucket waiting
    forever. With `find_unused_parameters=True`, forward walks the graph from the
    outputs, marks the parameters it cannot reach as ready (contributing zeros), and
    all-reduces a map of which parameters each rank used: a parameter no rank used
    keeps `.grad` as it was. Without it, the next forward reports the parameters that
    did not receive a gradient, as PyTorch does.
"""

from __future__ import annotations

import contextlib
import threading
import time

import numpy as np

# Importing retrograd.distributed (which starts no MPI) makes it an attribute of `retrograd`
# after `import retrograd`, as `torch.distributed` is after `import torch`.
from ... import distributed as _distributed  # noqa: F401
from ..._tensor import Tensor
from ...autograd import grad_mode
from ..modules.module import Module

__all__ = ["DistributedDataParallel"]

_FIRST_BUCKET_BYTES = 1024 * 1024
_DEFAULT_BUCKET_CAP_MB = 25


class _Bucket:
    """Parameters whose gradients are all-reduced together, and their flat buffer."""

    __slots__ = ("buffer", "done_at", "indices", "launched_at", "offsets", "request")

    def __init__(self, indices: list[int], parameters: list[Tensor]):
        from ...distributed._mpi import _REDUCE_AS

        self.indices = indices
        dtype = parameters[indices[0]]._data.dtype
        self.offsets = []
        total = 0
        for index in indices:
            self.offsets.append(total)
            total += parameters[index]._data.size
        self.buffer = np.zeros(total, dtype=_REDUCE_AS.get(dtype, dtype))
        self.request = None
        self.launched_at = None
        self.done_at = None


def _assign_buckets(order: list[int], parameters: list[Tensor], cap_bytes: int) -> list[list[int]]:
    """Split `order` into buckets: one dtype each, the first up to 1 MiB (or `cap_bytes` if
    smaller), the others up to `cap_bytes`."""
    buckets: list[list[int]] = []
    open_buckets: dict = {}  # dtype -> (indices, bytes)
    for index in order:
        data = parameters[index]._data
        indices, size = open_buckets.get(data.dtype, ([], 0))
        indices.append(index)
        size += data.nbytes
        limit = min(_FIRST_BUCKET_BYTES, cap_bytes) if not buckets else cap_bytes
        if size >= limit:
            buckets.append(indices)
            indices, size = [], 0
        open_buckets[data.dtype] = (indices, size)
    buckets.extend(indices for indices, _ in open_buckets.values() if indices)
    return buckets


class DistributedDataParallel(Module):
    """Data parallelism across processes: wrap the model, train as usual.

        model = DistributedDataParallel(model)        # after init_process_group
        loss = loss_fn(model(inputs), targets)        # inputs: this rank's share
        loss.backward()                               # gradients averaged over ranks
        optimizer.step()

    Rank 0's parameters and buffers are copied to every rank at construction; a
    parameter whose shape differs between ranks is an error there, naming it.
    `no_sync()` skips the averaging (gradient accumulation); `broadcast_buffers`
    copies rank 0's buffers (batch-norm statistics) before each forward.
    `device_ids`, `gradient_as_bucket_view` and `static_graph` are accepted for
    compatibility: retrograd computes on the CPU and copies gradients into buckets.
    """

    def __init__(self, module: Module, device_ids=None, output_device=None, dim: int = 0,
                 broadcast_buffers: bool = True, init_sync: bool = True, process_group=None,
                 bucket_cap_mb: float | None = None, find_unused_parameters: bool = False,
                 check_reduction: bool = False, gradient_as_bucket_view: bool = False,
                 static_graph: bool = False, **kwargs):
        super().__init__()
        from ... import distributed as dist
        from ...distributed.distributed_c10d import _default_group

        if device_ids:
            raise ValueError(
                "DistributedDataParallel device_ids and output_device arguments only work with "
                "single-device/multiple-device GPU modules or CPU modules, but got device_ids "
                f"{device_ids}, output_device {output_device}, and module parameters "
                "{device(type='cpu')}."
            )
        named = [(name, parameter) for name, parameter in module.named_parameters()
                 if parameter.requires_grad]
        if not named:
            raise RuntimeError(
                "DistributedDataParallel is not needed when a module doesn't have any parameter "
                "that requires a gradient."
            )
        self.module = module
        self.process_group = process_group if process_group is not None else _default_group()
        if process_group is dist.GroupMember.NON_GROUP_MEMBER:
            raise ValueError("DistributedDataParallel: this rank is not a member of process_group")
        self.dim = dim
        self.device_ids = None
        self.output_device = None
        self.broadcast_buffers = broadcast_buffers
        self.find_unused_parameters = find_unused_parameters
        self.gradient_as_bucket_view = gradient_as_bucket_view
        self.static_graph = static_graph
        self.require_backward_grad_sync = True
        self.require_forward_param_sync = True
        cap = _DEFAULT_BUCKET_CAP_MB if bucket_cap_mb is None else bucket_cap_mb
        self.bucket_bytes_cap = int(cap * 1024 * 1024)
        self._ddp_comm = self.process_group._comm.Dup()  # DDP's collectives never meet the user's
        self._ddp_world = self.process_group.size()
        self._ddp_names = [name for name, _ in named]
        self._ddp_params = [parameter for _, parameter in named]
        self._ddp_verify_same_model()
        if init_sync:
            self._ddp_broadcast([*self._ddp_params, *self._ddp_buffers()])
        self._ddp_build_buckets(list(reversed(range(len(self._ddp_params)))))
        self._ddp_rebuilt = False
        self._ddp_reductions = 0
        self._ddp_arrival: list[int] = []
        self._ddp_active = False
        self._ddp_started = False
        self._ddp_ready = np.zeros(len(self._ddp_params), dtype=bool)
        self._ddp_used = None
        self._ddp_used_request = None
        self._ddp_timeline = None
        self._ddp_last_grad_at = None
        self._ddp_lock = threading.Lock()
        self._ddp_progress = None  # (thread, stop event) while buckets are in flight
        from ...distributed._mpi import mpi

        self._ddp_progress_thread = mpi().Query_thread() == mpi().THREAD_MULTIPLE
        self._ddp_hook_handles = [
            parameter.register_post_accumulate_grad_hook(self._ddp_make_hook(index))
            for index, parameter in enumerate(self._ddp_params)
        ]

    # -- construction ---------------------------------------------------------

    def _ddp_buffers(self) -> list[Tensor]:
        return [buffer for _, buffer in self.module.named_buffers() if buffer is not None]

    def _ddp_verify_same_model(self) -> None:
        """Every rank must wrap the same parameters (names, shapes, dtypes): say which differs."""
        import pickle

        from ...distributed.distributed_c10d import _allgather_bytes

        mine = [(name, tuple(parameter.shape), str(parameter.dtype))
                for name, parameter in zip(self._ddp_names, self._ddp_params)]
        payloads = _allgather_bytes(self._ddp_comm, self.process_group, pickle.dumps(mine),
                                    "DistributedDataParallel")
        everyone = [pickle.loads(payload) for payload in payloads]
        reference = everyone[0]
        for rank, theirs in enumerate(everyone):
            if len(theirs) != len(reference):
                raise RuntimeError(
                    f"DDP expects same model across all ranks, but Rank {rank} has {len(theirs)} "
                    f"params, while rank 0 has inconsistent {len(reference)} params."
                )
            for index, ((name, shape, dtype), (_, shape0, dtype0)) in enumerate(zip(theirs, reference)):
                if shape != shape0 or dtype != dtype0:
                    raise RuntimeError(
                        f"DDP expects same model across all ranks: params[{index}] ('{name}') in "
                        f"rank {rank} with sizes {list(shape)} ({dtype}) appears not to match "
                        f"sizes of the same param in process 0: {list(shape0)} ({dtype0})."
                    )

    def _ddp_broadcast(self, tensors: list[Tensor]) -> None:
        """Copy rank 0's values of `tensors` to every rank, one message per dtype."""
        from ...distributed.distributed_c10d import _wait_requests

        by_dtype: dict = {}
        for tensor in tensors:
            by_dtype.setdefault(tensor._data.dtype, []).append(tensor)
        for group in by_dtype.values():
            flat = np.concatenate([tensor._data.reshape(-1) for tensor in group])
            request = self._ddp_comm.Ibcast(flat, root=0)
            _wait_requests([request], self.process_group, "DistributedDataParallel broadcast")
            offset = 0
            for tensor in group:
                size = tensor._data.size
                np.copyto(tensor._data, flat[offset:offset + size].reshape(tensor._data.shape))
                tensor._bump_version()
                offset += size

    def _ddp_build_buckets(self, order: list[int]) -> None:
        groups = _assign_buckets(order, self._ddp_params, self.bucket_bytes_cap)
        self._ddp_buckets = [_Bucket(indices, self._ddp_params) for indices in groups]
        self._ddp_bucket_of = np.empty(len(self._ddp_params), dtype=np.int64)
        for number, bucket in enumerate(self._ddp_buckets):
            self._ddp_bucket_of[bucket.indices] = number

    def _ddp_rebuild_buckets(self) -> None:
        """Once, after the first iteration: buckets in rank 0's order of gradient arrival."""
        from ...distributed.distributed_c10d import _wait_requests

        self._ddp_rebuilt = True
        arrival = np.full(len(self._ddp_params), -1, dtype=np.int64)
        arrival[:len(self._ddp_arrival)] = self._ddp_arrival
        _wait_requests([self._ddp_comm.Ibcast(arrival, root=0)], self.process_group,
                       "DistributedDataParallel")
        arrival = [int(index) for index in arrival if index >= 0]
        seen = set(arrival)
        order = list(arrival) + [index for index in reversed(range(len(self._ddp_params)))
                                 if index not in seen]
        self._ddp_build_buckets(order)

    # -- forward --------------------------------------------------------------

    def forward(self, *inputs, **kwargs):
        if grad_mode.is_grad_enabled() and self.require_backward_grad_sync:
            self._ddp_prepare_for_backward()
        else:
            self._ddp_active = False
        if self.broadcast_buffers and self.require_forward_param_sync:
            buffers = self._ddp_buffers()
            if buffers and self._ddp_world > 1:
                self._ddp_broadcast(buffers)
        output = self.module(*inputs, **kwargs)
        if self._ddp_active and self.find_unused_parameters:
            self._ddp_mark_unused(output)
        return output

    def _ddp_prepare_for_backward(self) -> None:
        if self._ddp_active and self._ddp_started:
            missing = [self._ddp_names[index] for index in np.flatnonzero(~self._ddp_ready)]
            self._ddp_active = False
            raise RuntimeError(
                "Expected to have finished reduction in the prior iteration before starting a new "
                "one. This error indicates that your module has parameters that were not used in "
                "producing loss. You can enable unused parameter detection by passing the keyword "
                "argument `find_unused_parameters=True` to "
                "`torch.nn.parallel.DistributedDataParallel`, and by making sure all `forward` "
                "function outputs participate in calculating loss.\nParameters which did not "
                f"receive grad for rank {self.process_group.rank()}: {', '.join(missing)}"
            )
        self._ddp_drain()
        if not self._ddp_rebuilt and self._ddp_reductions:
            self._ddp_rebuild_buckets()
        self._ddp_active = True
        self._ddp_started = False
        self._ddp_ready[:] = False
        self._ddp_arrival = [] if not self._ddp_rebuilt else self._ddp_arrival
        self._ddp_pending = [len(bucket.indices) for bucket in self._ddp_buckets]
        self._ddp_next_bucket = 0
        self._ddp_used = None
        self._ddp_used_request = None
        for bucket in self._ddp_buckets:
            bucket.request = bucket.launched_at = bucket.done_at = None

    def _ddp_drain(self) -> None:
        """Wait for requests of an iteration that never finished (a forward without backward):
        their buffers are about to be reused. Every rank launched them, so they complete."""
        from ...distributed.distributed_c10d import _wait_requests

        self._ddp_stop_progress()
        pending = [bucket.request for bucket in self._ddp_buckets
                   if bucket.request is not None and bucket.done_at is None]
        if self._ddp_used_request is not None:
            pending.append(self._ddp_used_request)
        if pending:
            _wait_requests(pending, self.process_group, "DistributedDataParallel")

    def _ddp_mark_unused(self, output) -> None:
        """See Note [Unused parameters]."""
        reached = _reachable_leaves(output)
        used = np.array([id(parameter) in reached for parameter in self._ddp_params], dtype=np.int32)
        self._ddp_used = used
        from ...distributed._mpi import mpi

        self._ddp_used_request = self._ddp_comm.Iallreduce(mpi().IN_PLACE, used, op=mpi().MAX)
        for index in np.flatnonzero(used == 0):
            self._ddp_mark_ready(int(index))

    # -- backward -------------------------------------------------------------

    def _ddp_make_hook(self, index: int):
        def ddp_grad_ready(parameter):
            if self._ddp_active:
                self._ddp_started = True
                self._ddp_last_grad_at = time.perf_counter()
                self._ddp_mark_ready(index)
                self._ddp_poll()

        return ddp_grad_ready

    def _ddp_mark_ready(self, index: int) -> None:
        if self._ddp_ready[index]:
            raise RuntimeError(
                "Expected to mark a variable ready only once. This error is caused by one of the "
                "following reasons: 1) Use of a module parameter outside the `forward` function, or "
                "2) backward run twice through the model in one iteration (reentrant backward, "
                "or several losses backwarded separately). Parameter: "
                f"{self._ddp_names[index]}"
            )
        self._ddp_ready[index] = True
        if not self._ddp_rebuilt:
            self._ddp_arrival.append(index)
        number = self._ddp_bucket_of[index]
        self._ddp_pending[number] -= 1
        while (self._ddp_next_bucket < len(self._ddp_buckets)
               and self._ddp_pending[self._ddp_next_bucket] == 0):
            self._ddp_launch(self._ddp_buckets[self._ddp_next_bucket])
            self._ddp_next_bucket += 1
        if self._ddp_next_bucket == len(self._ddp_buckets) and self._ddp_started:
            self._ddp_finalize()

    def _ddp_launch(self, bucket: _Bucket) -> None:
        from ...distributed._mpi import mpi

        for index, offset in zip(bucket.indices, bucket.offsets):
            parameter = self._ddp_params[index]
            size = parameter._data.size
            grad = parameter._grad
            if grad is None:
                bucket.buffer[offset:offset + size] = 0
            else:  # copy and pre-divide in one pass, so the sum is the average
                np.divide(grad._data.reshape(-1), self._ddp_world, out=bucket.buffer[offset:offset + size])
        with self._ddp_lock:
            bucket.launched_at = time.perf_counter()
            bucket.request = self._ddp_comm.Iallreduce(mpi().IN_PLACE, bucket.buffer, op=mpi().SUM)
            if self._ddp_progress is None and self._ddp_progress_thread:
                stop = threading.Event()
                thread = threading.Thread(target=self._ddp_progress_loop, args=(stop,), daemon=True,
                                          name="retrograd-ddp-progress")
                self._ddp_progress = (thread, stop)
                thread.start()

    def _ddp_test_in_flight(self) -> bool:
        """Test the requests in flight (holding the lock); whether any is still in flight."""
        in_flight = False
        for bucket in self._ddp_buckets:
            if bucket.done_at is None and bucket.request is not None:
                if bucket.request.Test():
                    bucket.done_at = time.perf_counter()
                else:
                    in_flight = True
        return in_flight

    def _ddp_poll(self) -> None:
        """Test the requests in flight: drives MPI's progress, and records completion times."""
        with self._ddp_lock:
            self._ddp_test_in_flight()

    def _ddp_progress_loop(self, stop: threading.Event) -> None:
        """See Note [MPI progress during backward]. Ends when nothing is in flight (the next
        launch starts a new one) or when told to."""
        while not stop.wait(0.0002):
            with self._ddp_lock:
                if not self._ddp_test_in_flight():
                    if self._ddp_progress is not None and self._ddp_progress[1] is stop:
                        self._ddp_progress = None
                    return

    def _ddp_stop_progress(self) -> None:
        with self._ddp_lock:
            progress, self._ddp_progress = self._ddp_progress, None
        if progress is not None:
            thread, stop = progress
            stop.set()
            thread.join()

    def _ddp_finalize(self) -> None:
        """Wait for every bucket, then write the averaged gradients into `.grad`."""
        from ...distributed.distributed_c10d import _wait_requests

        backward_done = time.perf_counter()
        self._ddp_stop_progress()
        self._ddp_reductions += 1
        self._ddp_active = False
        self._ddp_started = False
        if self._ddp_used_request is not None:
            _wait_requests([self._ddp_used_request], self.process_group, "DistributedDataParallel")
            self._ddp_used_request = None
        for bucket in self._ddp_buckets:
            if bucket.done_at is None:
                _wait_requests([bucket.request], self.process_group, "DistributedDataParallel all_reduce")
                bucket.done_at = time.perf_counter()
        for bucket in self._ddp_buckets:
            for index, offset in zip(bucket.indices, bucket.offsets):
                parameter = self._ddp_params[index]
                data = parameter._data
                average = bucket.buffer[offset:offset + data.size].reshape(data.shape)
                grad = parameter._grad
                if grad is None:
                    if self._ddp_used is not None and self._ddp_used[index]:
                        parameter._grad = Tensor._make(average.astype(data.dtype))
                    continue
                np.copyto(grad._data, average, casting="unsafe")
                grad._bump_version()
        self._ddp_timeline = {
            "buckets": [(bucket.launched_at, bucket.done_at, bucket.buffer.nbytes)
                        for bucket in self._ddp_buckets],
            "last_gradient": self._ddp_last_grad_at,
            "backward_done": backward_done,
            "finished": time.perf_counter(),
        }

    # -- gradient accumulation ------------------------------------------------

    @contextlib.contextmanager
    def no_sync(self):
        """Inside, forward/backward accumulate local gradients without averaging them.

        The first forward-backward outside the block averages everything accumulated.
        """
        previous = self.require_backward_grad_sync
        self.require_backward_grad_sync = False
        try:
            yield
        finally:
            self.require_backward_grad_sync = previous

    def extra_repr(self) -> str:
        return ""


def _reachable_leaves(output) -> set[int]:
    """The ids of the leaf tensors the autograd graph of `output` reaches."""
    tensors = []
    stack = [output]
    while stack:
        value = stack.pop()
        if isinstance(value, Tensor):
            tensors.append(value)
        elif isinstance(value, dict):
            stack.extend(value.values())
        elif isinstance(value, list | tuple):
            stack.extend(value)
    reached: set[int] = set()
    seen: set[int] = set()
    nodes = []
    for tensor in tensors:
        if tensor.grad_fn is None:
            reached.add(id(tensor))
        else:
            nodes.append(tensor.grad_fn)
    while nodes:
        node = nodes.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        variable = getattr(node, "variable", None)
        if variable is not None:
            reached.add(id(variable))
        for next_node, _ in node.next_functions:
            if next_node is not None:
                nodes.append(next_node)
    return reached
