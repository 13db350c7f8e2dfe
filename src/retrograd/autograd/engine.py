"""The backward pass: walk the recorded graph from the roots down to the leaves.

Note [The backward pass]
    1. Count, for every node reachable from the roots, how many edges lead into it.
    2. Keep a ready list. A node is ready once every edge into it has delivered its
       gradient (summed in the node's input buffer); it then runs exactly once, and
       its input gradients are delivered along `next_functions`.
    3. Leaves are reached through AccumulateGrad nodes, which add into `.grad`.
    Everything is iterative: no recursion in traversal or execution, so graphs of any
    depth work, and each node and edge is touched a constant number of times.

When the caller asks for the gradients of chosen inputs (`autograd.grad`, or
`backward(inputs=...)`), only the nodes from which an input can be reached run, and the
gradient arriving at each input is captured instead of accumulated.

Note [Arrays or Tensors in the pass]
    Without create_graph nothing the pass computes is recorded, so gradients travel as
    plain NumPy arrays: declared nodes (ops/_formula.py) take and return arrays, and only
    the few places that hand a gradient to the user (hooks, `.grad`, captured results) or to
    a node written with tensor operations (custom Functions, the escape-hatch nodes) wrap
    it in a Tensor. With create_graph gradients are Tensors throughout, and the pass runs
    with grad mode on, so the gradients it computes are themselves differentiable.

Note [Hook order]
    As PyTorch documents it, for the gradient arriving at a node:
      1. hooks registered on the tensors it produced (`tensor.register_hook`), in
         registration order, each may replace the gradient;
      2. `retain_grad()` stores the result in `.grad` (after all tensor hooks);
      3. the node's pre-hooks (`grad_fn.register_prehook`), then its backward, then its
         hooks (`grad_fn.register_hook(fn(grad_inputs, grad_outputs))`).
    For a leaf: its tensor hooks, AccumulateGrad's pre-hooks, the accumulation into
    `.grad`, then `register_post_accumulate_grad_hook` hooks. A pass captures (for
    `autograd.grad`) the gradient after the tensor hooks; a leaf it only captures runs no
    AccumulateGrad, so none of that node's hooks. Leaves made ready by one node
    accumulate next, in the order of its inputs. A node's hooks see one gradient per
    output (None for those that got none); a tensor hook whose node runs without a
    gradient for it is called with None. Hooks cost nothing when absent: each kind is one
    `is not None` check.

Note [The plain turn of a node]
    Most nodes of most passes are declared ops (ops/_formula.py) without hooks, in a pass on
    arrays that nobody observes: their whole turn is one call of the plan's generated
    `backward_on_arrays(..., plain=True)`, which checks the node's hooks and gradients itself
    (reads of one class's fields, which CPython specialises there, where the engine's reads
    see every class and take the slow generic path) and answers None, having done nothing,
    when the general turn is needed (a hook of any kind, no gradient; Note [The plain turn of
    several outputs] in ops/_formula.py says which gradients a node of several outputs takes). It
    releases the saved values itself once it has read them. The engine reads one field of
    the node for it (`_plan_used`, None on a class that has no plan). The ready node that
    runs next is kept in a local rather than pushed and popped (a chain never touches the
    `ready` deque, whose blocks are not reallocated as a list's storage is when it empties),
    and a node's count is not lowered past 1: once it is ready nothing reads it again. Its
    gradients stay in a local too. A node's count turns negative when it is first lowered
    (-2 is two edges still to come), as does a root's that another root reaches (its own
    gradient waits in `buffers`), so a count of 1 means one edge in all, and the
    gradient on it, into the node's first output, is all the node gets: it runs next with
    that gradient in hand, which never enters `buffers` (a chain's case). A node that will
    not run next after all goes back to `ready`, its gradients into `buffers` (`_put_back`).

Note [Observing the pass]
    Whatever wants to watch a backward pass (the explorer page, viz/_explorer.py) passes an
    observer to `execute` and is told each step of this one schedule; nobody copies it.
    For each node that runs:
      observer.arrived(node, grads)         the gradients summed in its buffer, before hooks;
      observer.ran(node, grads, sent)       `grads` after the tensor hooks (for a leaf, also
                                            after its AccumulateGrad pre-hooks), and what the
                                            node sent along `next_functions` (() for a leaf).
    Gradients are given as Tensors. With `observer.dry_run` true the pass changes nothing the
    user can see: the caller passes keep_graph=True and accumulate=False, and retained grads
    are not stored. Unobserved, this costs one `is not None` check per node.
"""

from __future__ import annotations

import sys
import threading
import warnings
from collections import deque

import numpy as np

from .._tensor import ORIGIN_BACKWARD, Tensor, new_version_counter
from . import grad_mode
from .anomaly import anomaly_mode
from .forward_ad import _state as _dual_state
from .graph import AccumulateGrad, CopyBackwards, Node

__all__ = ["current_graph_task", "execute"]


class GraphTask:
    """One running backward pass, as hooks may ask about it (`current_graph_task()`)."""

    __slots__ = ("dependencies", "hook_state", "needed", "observer", "roots", "targeted")

    def __init__(self, roots, dependencies, needed, observer=None, targeted: bool = False):
        self.roots = set(roots)
        self.dependencies = dependencies
        self.needed = needed  # None where every node reached runs, targeted or not
        self.hook_state: dict = {}
        self.observer = observer
        self.targeted = targeted  # the pass captures at given inputs (autograd.grad, backward(inputs=))

    def will_execute(self, node) -> bool:
        """Whether `node` runs (or has run) in this pass."""
        if node is None or (node not in self.dependencies and node not in self.roots):
            return False
        return self.needed is None or self.needed.get(node, _SKIP) != _SKIP


class _TaskState(threading.local):
    current: GraphTask | None = None


_task_state = _TaskState()


def current_graph_task() -> GraphTask | None:
    """The backward pass running in this thread, or None outside backward."""
    return _task_state.current


def execute(
    root_edges: list[tuple[Node, int]],
    root_grads: list[Tensor],
    *,
    keep_graph: bool,
    create_graph: bool,
    targets: list[tuple[Node, int]] | None = None,
    accumulate: bool = True,
    batch_size: int | None = None,
    observer=None,
) -> list[Tensor | None] | None:
    """Run one backward pass; see Note [The backward pass].

    `targets` are edges (a leaf's AccumulateGrad, or a non-leaf's `(grad_fn, output_nr)`)
    whose arriving gradients are captured and returned, in order. With `accumulate`,
    AccumulateGrad nodes write `.grad` (only those among `targets`, when given).
    With `batch_size`, every gradient carries a leading batch dimension of that size
    (see Note [Batched backward] in autograd/__init__.py). `observer` is told every step
    (see Note [Observing the pass]).
    """
    batch = () if batch_size is None else (batch_size,)
    entered: list = []  # what _enter_pass replaced, once the pass has entered its modes
    try:
        with np.errstate(all="ignore"):  # as PyTorch: inf and NaN arise silently
            return _run(root_edges, root_grads, keep_graph, create_graph, targets, accumulate,
                        batch, entered, observer)
    finally:
        if entered:
            _leave_pass(entered)


# Note [The modes of a pass]
#     Whatever a pass lets the user's code see runs with grad mode as create_graph says (off
#     without it, so hooks and custom backward functions record nothing), with
#     `current_graph_task()` answering, and with tensors it makes marked as derivatives
#     (Note [Tensor origins]). A node's plain turn (Note [The plain turn of a node]), like a
#     leaf's turn without hooks, runs no user code and makes no tensor but `.grad`, so a pass
#     of such turns never enters those modes (three thread-local reads and writes each way,
#     and two locked counts: about a fifth of a small backward's fixed cost): it enters them
#     (`_enter_pass`) before its first other turn, and `execute` leaves them. The tensors a
#     pass hands out on every path (`.grad`, captured gradients) are marked as derivatives
#     where they are made (`_derivative`), whatever the mode then. A node whose saved values
#     went through a pack hook takes the general turn, which runs their unpack hooks.
def _enter_pass(entered: list, create_graph: bool, task: GraphTask) -> None:
    """Enter the pass's modes, keeping in `entered` what they replace."""
    state = grad_mode._state
    entered += (state.grad_enabled, state.origin_without_grad, _task_state.current)
    grad_mode._set_grad_enabled(create_graph)
    state.origin_without_grad = ORIGIN_BACKWARD
    _task_state.current = task


def _leave_pass(entered: list) -> None:
    previous_mode, previous_origin, previous_task = entered
    grad_mode._set_grad_enabled(previous_mode)
    grad_mode._state.origin_without_grad = previous_origin
    _task_state.current = previous_task


def _derivative(array: np.ndarray) -> Tensor:
    """A gradient computed without create_graph, as a tensor marked as one (Note [Tensor origins])."""
    tensor = Tensor._make(array)
    tensor._origin = ORIGIN_BACKWARD
    return tensor


def _run(root_edges, root_grads, keep_graph, create_graph, targets, accumulate, batch, entered: list,
         observer):
    # In a dual level gradients stay Tensors, so they carry tangents (Note [Dual tensors]).
    on_arrays = not create_graph and _dual_state.level < 0
    if len(root_edges) == 1:
        root_nodes = [root_edges[0][0]]
    else:
        root_nodes = list(dict.fromkeys(node for node, _ in root_edges))
    dependencies = _count_dependencies(root_nodes)
    needed = None
    captured = None
    capture_slots: dict[Node, list[tuple[int, int]]] = {}
    target_nodes: set[Node] = set()
    if targets is not None:
        captured = [None] * len(targets)
        for slot, (node, output_nr) in enumerate(targets):
            capture_slots.setdefault(node, []).append((output_nr, slot))
            target_nodes.add(node)
        if not _every_node_leads_to_a_target(dependencies, target_nodes):
            needed = _nodes_leading_to(root_nodes, target_nodes, dependencies)

    buffers: dict[Node, list] = {}
    for (node, output_nr), grad in zip(root_edges, root_grads):
        if on_arrays:
            grad = _as_data(grad)
        elif not isinstance(grad, Tensor):  # (ones made for a scalar output: _root_gradients)
            grad = Tensor._make(grad)
        _deliver(buffers, node, output_nr, grad)
        if dependencies[node] > 0:  # (a root another root reaches: its gradient waits in buffers)
            dependencies[node] = -dependencies[node]
    ready = deque(node for node in reversed(root_nodes) if not dependencies.get(node))
    ready_leaves: list[Node] = []

    watched = needed is not None or observer is not None or bool(capture_slots)
    release = not keep_graph and observer is None
    # (fixed for the pass; a profiler wraps _run_node to time each node, which then all run there)
    plain = on_arrays and observer is None and not anomaly_mode.enabled and _run_node is _UNWRAPPED_RUN_NODE
    plain_leaves = plain and targets is None and accumulate
    task_fields = (root_nodes, dependencies, needed, observer, targets is not None)  # (of its GraphTask)
    if not plain:  # (Note [The modes of a pass])
        _enter_pass(entered, create_graph, GraphTask(*task_fields))
    following = None  # the node made ready last, which runs next: kept off `ready` (a chain's case)
    following_grads = None  # its gradients, kept off `buffers` likewise
    while True:
        if following is not None:
            node = following
            grad_outputs = following_grads
            following = None
        elif ready:
            node = ready.pop()
            grad_outputs = buffers.pop(node, None)
        else:
            break
        grad_inputs = None
        if plain and grad_outputs is not None:  # Note [The plain turn of a node]
            plan = node._plan_used
            if plan is not None and (needed is None or (needed[node] == _RUN and node not in capture_slots)):
                backward = plan.backward_on_arrays
                grad_inputs = backward(node, grad_outputs, batch, release, needed, True)
            elif type(node) is AccumulateGrad and node._extras is None and node.variable._extras is None:
                # a leaf without hooks runs no user code (Note [The modes of a pass])
                grad = None  # (the pass keeps no reference of its own: Note [Adopting a gradient])
                if plain_leaves:  # (what _run_leaf does for it, less the calls)
                    _store_grad(node.variable, grad_outputs[0], False, _REFERENCES_ON_A_PLAIN_LEAF_TURN)
                elif needed is None or needed[node] != _SKIP:
                    _run_leaf(node, grad_outputs, targets, target_nodes, accumulate, False, capture_slots,
                              captured, None)
                continue
        if grad_inputs is None:
            if not entered:
                _enter_pass(entered, create_graph, GraphTask(*task_fields))
            if grad_outputs is None:  # every gradient that reached it was None
                grad_outputs = [None]
            if watched:
                if needed is not None and needed[node] == _SKIP:
                    continue
                if observer is not None:
                    observer.arrived(node, _as_tensors(grad_outputs))
            if node._extras is not None and (node._tensor_pre_hooks is not None
                                             or node._retain_grad_hooks is not None):
                grad_outputs = _run_tensor_hooks(node, grad_outputs, create_graph)
            if type(node) is AccumulateGrad:
                # (the pass keeps no reference of its own: Note [Adopting a gradient])
                grad_inputs = grad = None
                _run_leaf(node, grad_outputs, targets, target_nodes, accumulate, create_graph, capture_slots,
                          captured, observer)
                continue
            if watched:
                if node in capture_slots:
                    for output_nr, slot in capture_slots[node]:
                        captured[slot] = grad_outputs[output_nr]
                if needed is not None and needed[node] == _CAPTURE_ONLY:
                    continue
            if anomaly_mode.enabled:
                grad_inputs = _run_node_reporting_origin(node, grad_outputs, batch, on_arrays, needed)
            else:
                grad_inputs = _run_node(node, grad_outputs, batch, on_arrays, release, needed)
            if observer is not None:
                observer.ran(node, _as_tensors(grad_outputs), _as_tensors(grad_inputs))
            if not keep_graph and not node._released:
                node._release()
        position = -1
        next_nrs = node._next_nrs
        for next_node in node:
            position += 1
            if next_node is None:
                continue
            grad = grad_inputs[position]
            remaining = dependencies[next_node]
            if remaining == 1 and next_nrs[position] == 0 and type(next_node) is not AccumulateGrad:
                # Its only gradient, into its first output: it runs next, the gradient in hand.
                if following is not None:
                    _put_back(following, following_grads, ready, buffers)
                following = next_node
                following_grads = None if grad is None else [grad]
                continue
            if grad is not None:
                output_nr = next_nrs[position]
                if output_nr == 0:  # the common case of _deliver, inlined
                    buffer = buffers.get(next_node)
                    if buffer is None:
                        buffers[next_node] = [grad]
                    else:
                        existing = buffer[0]
                        buffer[0] = grad if existing is None else existing + grad
                else:
                    _deliver(buffers, next_node, output_nr, grad)
            if remaining != 1 and remaining != -1:  # (the count of a node lowered once turns negative)
                dependencies[next_node] = 1 - remaining if remaining > 0 else remaining + 1
            elif type(next_node) is AccumulateGrad:
                ready_leaves.append(next_node)
            else:
                if following is not None:
                    _put_back(following, following_grads, ready, buffers)
                following = next_node
                following_grads = buffers.pop(next_node, None)
        if ready_leaves:
            # Leaves made ready by this node accumulate next, in input order (as PyTorch).
            if following is not None:
                _put_back(following, following_grads, ready, buffers)
                following = None
            ready.extend(reversed(ready_leaves))
            ready_leaves.clear()
    if captured is not None and on_arrays:
        captured = _as_tensors(captured)
    return captured


def _put_back(node: Node, grads: list | None, ready: deque, buffers: dict) -> None:
    """A ready node that will not run next after all: onto `ready`, its gradients into `buffers`."""
    ready.append(node)
    if grads is not None:
        buffers[node] = grads


def _run_leaf(node: AccumulateGrad, grad_outputs: list, targets, target_nodes: set, accumulate: bool,
              create_graph: bool, capture_slots: dict, captured: list | None, observer) -> None:
    """A leaf's turn: its tensor hooks, AccumulateGrad's pre-hooks, capture or accumulate."""
    grad_outputs[0] = _run_leaf_hooks(node.variable, grad_outputs[0])
    # AccumulateGrad runs in backward() (for the leaves asked for); a leaf that
    # autograd.grad only captures runs no node, nor its hooks (as PyTorch)
    runs = accumulate and (targets is None or node in target_nodes)
    if node._extras is not None and node._pre_hooks is not None and (targets is None or runs):
        grad_outputs = _run_pre_hooks(node, grad_outputs)
    if node in capture_slots:
        for output_nr, slot in capture_slots[node]:
            captured[slot] = grad_outputs[output_nr]
    if runs:
        _accumulate_grad(node.variable, grad_outputs[0], create_graph, _REFERENCES_OF_AN_OWNED_GRADIENT)
        if node._extras is not None and node._hooks is not None:  # (Note [A node's rare fields])
            for hook in list(node._hooks.values()):
                hook((), tuple(_as_tensors(grad_outputs)))
    if observer is not None:
        observer.ran(node, _as_tensors(grad_outputs), ())


def _as_tensor(grad):
    """A gradient of the pass as a Tensor (see Note [Arrays or Tensors in the pass])."""
    if grad is None or isinstance(grad, Tensor):
        return grad
    return _derivative(grad if isinstance(grad, np.ndarray) else np.asarray(grad))  # (ZeroGradient too)


def _as_tensors(grads) -> list:
    return [_as_tensor(grad) for grad in grads]


def _as_data(grad):
    """A gradient as the pass carries it without create_graph: an array (or None)."""
    return grad._data if isinstance(grad, Tensor) else grad


def _count_dependencies(root_nodes: list[Node]) -> dict[Node, int]:
    """How many edges lead into each node reachable from the roots (roots: 0 unless reached).

    Each node is expanded once, roots included, so a root that another root reaches (the
    gradients of both `a` and `b = f(a)`) waits for that root's contribution. A node is
    expanded when it first enters the dict, which the roots enter first.
    """
    dependencies = dict.fromkeys(root_nodes, 0)
    stack = list(root_nodes)
    while stack:
        node = stack.pop()
        while node is not None:  # (a chain is followed without a trip through the stack)
            following = None
            for next_node in node:
                if next_node in dependencies:
                    dependencies[next_node] += 1
                elif next_node is not None:
                    dependencies[next_node] = 1
                    if following is not None:
                        stack.append(following)
                    following = next_node
            node = following
    return dependencies


_SKIP, _CAPTURE_ONLY, _RUN = 0, 1, 2


def edges_not_needed(node: Node) -> tuple[bool, ...] | None:
    """Which of `node`'s edges lead only to nodes the running pass skips (an `autograd.grad`
    that asked for other inputs): their formulas need not run, as PyTorch's
    `should_compute_output` says. None when the pass needs every edge."""
    task = _task_state.current
    if task is None or task.needed is None:
        return None
    needed = task.needed
    return tuple(next_node is not None and needed.get(next_node) == _SKIP for next_node in node)


def _every_node_leads_to_a_target(dependencies: dict[Node, int], targets: set[Node]) -> bool:
    """Whether a pass that captures at `targets` runs every node it reaches, so that no map of
    the nodes to skip (_nodes_leading_to) need be made: the targets are leaves, and every other
    node reached has a node below it, so a path down to a leaf, which is then a target. This
    is the common `grad(loss, leaves)` (a Jacobian's rows, a Hessian's products), and the test
    costs a fraction of the map."""
    for node in targets:
        if type(node) is not AccumulateGrad:
            return False
    for node in dependencies:
        if node not in targets:
            for child in node:
                if child is not None:
                    break
            else:
                return False
    return True


def _nodes_leading_to(root_nodes: list[Node], targets: set[Node], dependencies: dict[Node, int]
                      ) -> dict[Node, int]:
    """For each reachable node: _RUN if a target lies below it, _CAPTURE_ONLY if it is a
    target with none below, else _SKIP. Each node is decided after every node below it: in the
    reverse of a topological order, made from `dependencies` (as _count_dependencies counts
    them) the way the pass itself orders its nodes."""
    remaining = dependencies.copy()
    order = [node for node in root_nodes if not remaining[node]]
    for node in order:  # (grows while it is read: each node enters once its parents are in)
        for child in node:
            if child is not None:
                left = remaining[child] - 1
                remaining[child] = left
                if not left:
                    order.append(child)
    needed: dict[Node, int] = {}
    for node in reversed(order):
        state = _CAPTURE_ONLY if node in targets else _SKIP
        for child in node:
            if child is not None and needed[child]:
                state = _RUN
                break
        needed[node] = state
    return needed


def _deliver(buffers: dict, node: Node, output_nr: int, grad: Tensor) -> None:
    """Add `grad` into slot `output_nr` of `node`'s input buffer."""
    buffer = buffers.get(node)
    if buffer is None:
        buffer = buffers[node] = [None] * max(output_nr + 1, 1)
    elif len(buffer) <= output_nr:
        buffer.extend([None] * (output_nr + 1 - len(buffer)))
    existing = buffer[output_nr]
    buffer[output_nr] = grad if existing is None else existing + grad


def _run_node(node: Node, grad_outputs: list, batch: tuple = (), on_arrays: bool = False,
              release: bool = False, needed: dict | None = None) -> tuple:
    """Call the node's backward with its pre- and post-hooks, fitting grads to its inputs.
    With `release` a declared op may free its saved tensors already (the caller's
    `_release` then has nothing left to do); `needed` is the pass's map of the nodes it runs
    (see edges_not_needed)."""
    hooked = node._extras is not None and (node._pre_hooks is not None or node._hooks is not None)
    if hooked:
        grad_outputs = _one_per_output(node, grad_outputs)
        if node._pre_hooks is not None:
            grad_outputs = _run_pre_hooks(node, grad_outputs, on_arrays)
    if len(grad_outputs) == 1:
        if grad_outputs[0] is None:
            return (None,) * len(node)
    elif all(grad is None for grad in grad_outputs):
        return (None,) * len(node)
    if on_arrays and node._declared:
        # a declared op: its generated backward fits (Note [Generated saving and backward])
        early_release = release and (not hooked or node._hooks is None)
        grad_inputs = node._plan_used.backward_on_arrays(node, grad_outputs, batch, early_release, needed)
    else:
        if on_arrays and not node._runs_on_arrays:
            grad_inputs = node.backward(*_as_tensors(grad_outputs))
            if type(grad_inputs) is not tuple:
                grad_inputs = (grad_inputs,)
            grad_inputs = tuple(_as_data(grad) for grad in grad_inputs)
        else:
            grad_inputs = node.backward(*grad_outputs)
            if type(grad_inputs) is not tuple:
                grad_inputs = (grad_inputs,)
        if (not on_arrays or batch or len(grad_inputs) != len(node)
                or not _fit(grad_inputs, node._input_meta)):
            grad_inputs = _fit_to_inputs(node, grad_inputs, batch, on_arrays)
    if hooked and node._hooks is not None:
        for hook in list(node._hooks.values()):
            replaced = hook(tuple(_as_tensors(grad_inputs)), tuple(_as_tensors(grad_outputs)))
            if replaced is not None:
                replaced = _checked_hook_result(hook, replaced, grad_inputs)
                grad_inputs = tuple(_as_data(grad) for grad in replaced) if on_arrays else replaced
    return grad_inputs


_UNWRAPPED_RUN_NODE = _run_node


def _one_per_output(node: Node, grad_outputs: list) -> list:
    """The input buffer ends at the last output that received a gradient; a node's hooks see
    one entry per output, None for the outputs that got none (as PyTorch's)."""
    missing = node._number_of_outputs() - len(grad_outputs)
    return grad_outputs + [None] * missing if missing > 0 else grad_outputs


def _run_pre_hooks(node: Node, grad_outputs: list, on_arrays: bool | None = None) -> list:
    if on_arrays is None:
        on_arrays = any(grad is not None and not isinstance(grad, Tensor) for grad in grad_outputs)
    for hook in list(node._pre_hooks.values()):
        replaced = hook(tuple(_as_tensors(grad_outputs)))
        if replaced is not None:
            grad_outputs = list(_checked_hook_result(hook, replaced, grad_outputs))
            if on_arrays:
                grad_outputs = [_as_data(grad) for grad in grad_outputs]
    return grad_outputs


def _checked_hook_result(hook, replaced, original):
    replaced = tuple(replaced)
    if len(replaced) != len(original):
        name = getattr(hook, "__name__", repr(hook))
        raise RuntimeError(
            f"hook '{name}' has returned an incorrect number of values (got {len(replaced)}, but "
            f"expected {len(original)})"
        )
    for before, after in zip(original, replaced):
        if before is None and after is not None:
            raise RuntimeError("can't replace a None gradient with a non-None value")
    return replaced


def _fit_to_inputs(node: Node, grad_inputs: tuple, batch: tuple = (), on_arrays: bool = False) -> tuple:
    """Sum broadcast gradients back to their input's shape and cast them to its dtype.

    This is the one place where broadcasting is undone, for every operator.
    """
    expected = len(node)
    if len(grad_inputs) != expected:
        raise RuntimeError(
            f"function {node.name()} returned an incorrect number of gradients (expected "
            f"{expected}, got {len(grad_inputs)})"
        )
    fitted = None
    for index, (grad, meta) in enumerate(zip(grad_inputs, node._input_meta)):
        if grad is None or meta is None:
            continue
        shape, dtype = meta
        if batch:
            shape = batch + shape
        if on_arrays:
            data = grad if isinstance(grad, np.ndarray) else np.asarray(grad)  # (a ZeroGradient stays one)
        else:
            data = grad._data
        if data.shape == shape and data.dtype == dtype:
            if on_arrays and data is not grad:
                if fitted is None:
                    fitted = list(grad_inputs)
                fitted[index] = data
            continue
        if data.shape != shape:
            axes = _summed_axes(data.shape, shape)
            if axes is None:
                raise RuntimeError(
                    f"Function {node.name()} returned an invalid gradient at index {index} - got "
                    f"[{', '.join(map(str, data.shape))}] but expected shape compatible with "
                    f"[{', '.join(map(str, shape))}]"
                )
            grad = _sum_to_array(data, shape, axes) if on_arrays else grad.sum_to_size(shape)
        if on_arrays:
            if grad.dtype != dtype:
                grad = grad.astype(dtype)
        elif grad._data.dtype != dtype:
            grad = grad.to(_dtype_of(dtype))
        if fitted is None:
            fitted = list(grad_inputs)
        fitted[index] = grad
    return grad_inputs if fitted is None else tuple(fitted)


def _fit(grads: tuple, metas: tuple) -> bool:
    """Whether gradient arrays already have their inputs' shapes and dtypes (the common case,
    checked before _fit_to_inputs is called)."""
    for grad, meta in zip(grads, metas):
        if grad is not None and meta is not None and (
            type(grad) is not np.ndarray or grad.shape != meta[0] or grad.dtype != meta[1]
        ):
            return False
    return True


def _sum_to_array(data: np.ndarray, shape: tuple, axes: tuple | None = None) -> np.ndarray:
    """`data` summed over the dimensions that broadcasting added or stretched to reach it
    (`axes`, where the caller has found them: `_summed_axes`)."""
    if axes is None:
        axes = _summed_axes(data.shape, shape)
    summed = np.add.reduce(data, axis=axes, keepdims=True) if axes else data  # (ndarray.sum, less Python)
    return summed.reshape(shape)


def _summed_axes(grad_shape: tuple, shape: tuple) -> tuple | None:
    """The axes of a gradient of `grad_shape` that broadcasting added or stretched to reach it
    from `shape` (what summing gives it back), or None where broadcasting cannot reach it.
    (A loop, not generators: the engine asks this of every broadcast input.)"""
    leading = len(grad_shape) - len(shape)
    if leading < 0:
        return None
    axes = list(range(leading))
    for index, size in enumerate(shape):
        if size != grad_shape[leading + index]:
            if size != 1:
                return None
            axes.append(leading + index)
    return tuple(axes)


def _can_sum_to(grad_shape: tuple, shape: tuple) -> bool:
    return _summed_axes(grad_shape, shape) is not None


def _dtype_of(numpy_dtype):
    from .._dtype import from_numpy_dtype

    return from_numpy_dtype(numpy_dtype)


def _run_tensor_hooks(node: Node, grad_outputs: list, create_graph: bool) -> list:
    """Hooks registered on non-leaf outputs of `node`, then their retained `.grad`."""
    if node._tensor_pre_hooks is not None:
        for output_nr, hooks in node._tensor_pre_hooks.items():
            if output_nr >= len(grad_outputs) or grad_outputs[output_nr] is None:
                _run_hooks_without_gradient(hooks)
                continue
            grad = _as_tensor(grad_outputs[output_nr])
            for hook in list(hooks.values()):
                replaced = hook(grad)
                if replaced is not None:
                    grad = _checked_replacement(hook, grad, replaced)
            grad_outputs[output_nr] = grad if create_graph else grad._data
    if node._retain_grad_hooks is not None:
        observer = _task_state.current.observer
        if observer is not None and observer.dry_run:
            return grad_outputs
        for output_nr, tensor_ref in node._retain_grad_hooks.items():
            tensor = tensor_ref()
            if tensor is None or output_nr >= len(grad_outputs):
                continue
            grad = grad_outputs[output_nr]
            if grad is not None:
                _store_retained_grad(tensor, grad, create_graph)
    return grad_outputs


def _run_hooks_without_gradient(hooks: dict) -> None:
    """A tensor whose node runs without a gradient for it: its hooks are called with None
    (as PyTorch's) and may not make one up."""
    for hook in list(hooks.values()):
        if hook(None) is not None:
            raise RuntimeError("can't replace a None gradient with a non-None value")


def _run_leaf_hooks(variable: Tensor, grad):
    hooks = None if variable._extras is None else variable._backward_hooks
    if hooks is not None and grad is None:
        _run_hooks_without_gradient(hooks)
    elif hooks is not None:
        on_arrays = not isinstance(grad, Tensor)
        grad = _as_tensor(grad)
        for hook in list(hooks.values()):
            replaced = hook(grad)
            if replaced is not None:
                grad = _checked_replacement(hook, grad, replaced)
        if on_arrays:
            grad = grad._data
    return grad


def _checked_replacement(hook, grad: Tensor, replaced) -> Tensor:
    """A tensor hook may change a gradient's values, never its shape or dtype."""
    from .._dtype import tensor_type_string

    name = getattr(hook, "__name__", repr(hook))
    if not isinstance(replaced, Tensor):
        raise TypeError(f"expected Variable, but hook returned '{type(replaced).__name__}'")
    if replaced._data.shape != grad._data.shape:
        raise RuntimeError(f"hook '{name}' has changed the size of value")
    if replaced.dtype is not grad.dtype:
        raise RuntimeError(
            f"hook '{name}' has changed the type of value (was {tensor_type_string(grad.dtype)} got "
            f"{tensor_type_string(replaced.dtype)})"
        )
    return replaced


def _accumulate_grad(variable: Tensor, grad: Tensor | None, create_graph: bool, owned_at: int = 0) -> None:
    """What AccumulateGrad does: add `grad` into `variable.grad`, then post-accumulate hooks.
    `owned_at`: see _store_grad."""
    if grad is None:
        return
    _store_grad(variable, grad, create_graph, owned_at)
    if variable._extras is not None and variable._post_accumulate_hooks is not None:
        for hook in list(variable._post_accumulate_hooks.values()):
            hook(variable)


def _store_grad(tensor: Tensor, grad: Tensor, create_graph: bool, owned_at: int = 0) -> None:
    """Accumulate into `tensor.grad`: in place normally, as a new graph with create_graph.
    A first gradient array that nothing else holds (no more than `owned_at` references: the
    engine's own, counted for its path) becomes `.grad` without a copy (Note [Adopting a
    gradient]).

    Note [Accumulating with create_graph]
        With create_graph the sum `old + new` is recorded, and `.grad` becomes its copy
        with a CopyBackwards grad_fn, exactly as PyTorch shows it (`grad_fn=<CopyBackwards>`).
        Without it, the first gradient is copied (the engine's tensors may be shared) and
        later ones are added in place, bumping the version of `.grad`.
    """
    existing = tensor._grad
    if create_graph:
        # as PyTorch: the first gradient is copied (CopyBackwards), later ones are summed out
        # of place (`.grad` shows AddBackward0)
        tensor._grad = _copy_with_history(grad) if existing is None else existing + grad
        return
    data = grad._data if isinstance(grad, Tensor) else grad
    if existing is None:
        like = tensor._data
        if type(data) is not np.ndarray or type(like) is not np.ndarray or like.shape != data.shape:
            tensor._grad = _derivative(np.array(data, copy=True))
        elif not _has_layout_of(data, like):  # (Note [The layout of a gradient])
            copy = np.empty_like(like, dtype=data.dtype)
            np.copyto(copy, data)
            tensor._grad = _derivative(copy)
        elif owned_at and data.base is None and data.flags.writeable and sys.getrefcount(data) <= owned_at:
            tensor._grad = _derivative(data)
        else:
            tensor._grad = _derivative(np.array(data, copy=True))
    else:
        np.add(existing._data, data, out=existing._data, casting="unsafe")
        existing._bump_version()


# Note [The layout of a gradient]
#     PyTorch lays a leaf's `.grad` out as the leaf itself (its "layout contract"): a weight
#     used as `x @ w.t()` gets a gradient computed in the transposed layout, and AccumulateGrad
#     copies it into the weight's, so `w.grad.view(-1)` works and `w.grad.is_contiguous()`
#     holds for a contiguous weight. `.grad` here follows the same rule: a first gradient whose
#     layout is the leaf's is kept (or adopted), any other is copied into the leaf's layout.
def _has_layout_of(data: np.ndarray, like: np.ndarray) -> bool:
    """Whether `data` is laid out as `like` (contiguous as it is, or with its strides)."""
    if data.strides == like.strides:
        return True
    if like.flags.c_contiguous:
        return data.flags.c_contiguous
    return like.flags.f_contiguous and data.flags.f_contiguous


# Note [Adopting a gradient]
#     A leaf's first gradient becomes its `.grad`. The engine's arrays may be shared (a formula
#     that passes its incoming gradient on, `AddBackward0`'s, gives one array to both inputs),
#     so the general rule is a copy; but most first gradients are arrays a formula has just made
#     and nothing else holds, and copying them is most of what an MLP step does beyond NumPy's
#     own work (w3 of benchmarks/). As PyTorch's AccumulateGrad steals a gradient whose use
#     count says it is alone, a gradient array is adopted when it owns its memory (not a view),
#     is writeable, and its reference count is no more than the references of the engine's own
#     path to `_store_grad` (the leaf's buffer, the arguments of `_accumulate_grad` and
#     `_store_grad`, the local `data`, and getrefcount's own): `_REFERENCES_OF_AN_OWNED_GRADIENT`,
#     which `_run` makes exact by dropping its own references before a leaf's turn. Anything
#     else holding the array (another leaf's buffer, a hook, a captured gradient, a user's
#     tensor, a view of it) raises the count, and the gradient is copied. Only that path asks:
#     every other caller copies.
_REFERENCES_OF_AN_OWNED_GRADIENT = 5
_REFERENCES_ON_A_PLAIN_LEAF_TURN = 4  # (the same, without `_accumulate_grad`'s argument)


def _store_retained_grad(tensor: Tensor, grad, create_graph: bool) -> None:
    """What `retain_grad()` keeps, as PyTorch: a clone of the first gradient, then out-of-place
    sums (recorded with create_graph, so `.grad` shows CloneBackward0 or AddBackward0)."""
    existing = tensor._grad
    if create_graph:
        tensor._grad = grad.clone() if existing is None else existing + grad
        return
    data = grad._data if isinstance(grad, Tensor) else grad
    if existing is None:
        tensor._grad = _derivative(np.array(data, copy=True))
    else:
        tensor._grad = _derivative(np.asarray(existing._data + data, dtype=existing._data.dtype))


def _copy_with_history(value: Tensor) -> Tensor:
    data = np.array(value._data, copy=True)
    if not value._requires_grad:
        return Tensor._make(data)
    node = CopyBackwards()
    if value.grad_fn is not None:
        node.next_functions = ((value.grad_fn, value._output_nr),)
    else:
        node.next_functions = ((value._get_grad_accumulator(), 0),)
    node._input_meta = ((data.shape, data.dtype),)
    return Tensor._from_node(data, node, 0, new_version_counter())


# ---------------------------------------------------------------------------
# Anomaly checks (enabled by autograd.detect_anomaly)


def _check_nan(node: Node, grad_inputs: tuple) -> None:
    for index, grad in enumerate(grad_inputs):
        if grad is not None and np.isnan(_as_data(grad)).any():
            raise RuntimeError(f"Function '{node.name()}' returned nan values in its {index}th output.")


def _run_node_reporting_origin(node: Node, grad_outputs: list, batch: tuple, on_arrays: bool,
                               needed: dict | None = None) -> tuple:
    """Run a node; if it fails, attach (and warn with) the stack that created it."""
    try:
        grad_inputs = _run_node(node, grad_outputs, batch, on_arrays, needed=needed)
        if anomaly_mode.check_nan:
            _check_nan(node, grad_inputs)
        return grad_inputs
    except Exception as error:
        if node._anomaly_trace:
            origin = (
                f"Error detected in {node.name()}. Traceback of forward call that caused the "
                "error:\n" + "".join(node._anomaly_trace)
            )
            warnings.warn(origin, UserWarning, stacklevel=2)
            error.add_note(origin)
        raise
