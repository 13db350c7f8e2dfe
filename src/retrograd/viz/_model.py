"""The picture's model: the recorded graph read into boxes and edges (nothing is changed).

A `Box` is one thing drawn: a `grad_fn` node, a leaf (its AccumulateGrad and the tensor
behind it), an output tensor, a run of identical ops collapsed into one, or a note of what
`max_nodes` cut. Edges go from a node to its `next_functions`: the way gradients flow.

Every walk here is iterative (a stack or a queue), so graphs of any depth can be drawn.
"""

from __future__ import annotations

import dataclasses
from collections import deque

import numpy as np

from .._tensor import Tensor
from ..autograd.graph import AccumulateGrad, Node, is_output_record

__all__ = ["Box", "Edge", "GraphModel", "build_model", "describe_value", "walk_nodes"]

# Box kinds, each with its own colour and shape in every output.
OUTPUT, OP, LEAF, COLLAPSED, MORE = "output", "op", "leaf", "collapsed", "more"


@dataclasses.dataclass
class Box:
    """One drawn box: a title line, detail lines, and flags that choose its colour."""

    key: int
    kind: str
    title: str
    lines: list[str] = dataclasses.field(default_factory=list)
    flags: set[str] = dataclasses.field(default_factory=set)
    count: int = 1
    node: Node | None = None
    name: str = ""  # how the text calls it: "x", "AddBackward0 (a)", "MulBackward0"


@dataclasses.dataclass
class Edge:
    source: int
    target: int
    label: str = ""


@dataclasses.dataclass
class GraphModel:
    boxes: dict[int, Box]
    edges: list[Edge]
    note: str = ""
    node_keys: dict[int, int] = dataclasses.field(default_factory=dict)  # id(Node) -> box key


def walk_nodes(root_nodes: list[Node]) -> list[Node]:
    """Every node reachable from `root_nodes`, in breadth-first order (iterative)."""
    seen = {id(node) for node in root_nodes}
    order = list(dict.fromkeys(root_nodes))
    queue = deque(order)
    while queue:
        node = queue.popleft()
        for child, _ in node.next_functions:
            if child is not None and id(child) not in seen:
                seen.add(id(child))
                order.append(child)
                queue.append(child)
    return order


def describe_value(tensor: Tensor | np.ndarray, limit: int = 6) -> str:
    """The values of a small tensor, or its shape and norm when it has more than `limit`."""
    array = tensor._data if isinstance(tensor, Tensor) else np.asarray(tensor)
    if array.size <= limit:
        if array.ndim == 0:
            return _number(array.item())
        return "[" + ", ".join(_number(value) for value in array.reshape(-1).tolist()) + "]"
    norm = float(np.linalg.norm(array.astype(np.float64).reshape(-1)))
    return f"{_shape(array.shape)} norm {norm:.4g}"


def _number(value) -> str:
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return f"{value:.0f}"
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def _shape_words(shape) -> str:
    """'scalar' for 0-d, else 'shape (2, 3)'."""
    return "scalar" if len(shape) == 0 else f"shape {_shape(shape)}"


def _shape(shape) -> str:
    return str(tuple(int(size) for size in shape))


def _dtype_name(array: np.ndarray) -> str:
    return str(array.dtype)


class _Names:
    """Names given by the user: leaves by tensor, non-leaves by (grad_fn, output_nr)."""

    def __init__(self, params: dict | None):
        self.leaves: dict[int, str] = {}
        self.outputs: dict[tuple[int, int], str] = {}
        self.by_node: dict[int, list[str]] = {}
        for name, tensor in (params or {}).items():
            if not isinstance(tensor, Tensor):
                continue
            if tensor.grad_fn is None:
                self.leaves[id(tensor)] = name
            else:
                self.outputs[(id(tensor.grad_fn), tensor._output_nr)] = name
                self.by_node.setdefault(id(tensor.grad_fn), []).append(name)

    def of_node(self, node: Node) -> str | None:
        if isinstance(node, AccumulateGrad):
            return self.leaves.get(id(node.variable))
        names = self.by_node.get(id(node))
        return ", ".join(names) if names else None


def build_model(
    roots: list[Tensor],
    params: dict | None = None,
    *,
    show_saved: bool = True,
    show_grads: bool = True,
    max_nodes: int = 500,
    collapse: int = 8,
) -> GraphModel:
    """Read the graph behind `roots` into boxes and edges; see the module docstring.

    Runs of at least `collapse` identical ops (each the only consumer of the next) become
    one box with a count; at most `max_nodes` boxes are kept, nearest the roots first.
    """
    names = _Names(params)
    root_nodes = [_node_of(tensor) for tensor in roots]
    group_of = {}
    if collapse and collapse > 1:
        group_of = _collapse_runs(walk_nodes([node for node in root_nodes if node is not None]), collapse)

    boxes: dict[int, Box] = {}
    edges: list[Edge] = []
    node_keys: dict[int, int] = {}
    for index, tensor in enumerate(roots):
        boxes[-1 - index] = _output_box(-1 - index, tensor, names, show_grads)

    kept, hidden = _keep_nearest(root_nodes, group_of, max_nodes)
    for members in kept.values():
        key = len(boxes)
        for member in members:
            node_keys[id(member)] = key
        boxes[key] = _node_box(key, members, names, show_saved, show_grads)
    for index, node in enumerate(root_nodes):
        if node is not None and id(node) in node_keys:
            edges.append(Edge(-1 - index, node_keys[id(node)]))

    more_key = None
    links: dict[tuple[int, int], list[tuple[int, int]]] = {}  # (source, target) -> [(input, output)]
    for representative, members in kept.items():
        source = node_keys[id(representative)]
        member_ids = {id(member) for member in members}
        for member in members:
            for input_nr, (child, child_output) in enumerate(member.next_functions):
                if child is None:
                    _note_constant_input(boxes[source], input_nr, len(members))
                    continue
                if id(child) in member_ids:
                    continue
                target = node_keys.get(id(child))
                if target is None:
                    if more_key is None:
                        more_key = len(boxes) + 1_000_000
                        boxes[more_key] = Box(more_key, MORE, "")
                    target = more_key
                links.setdefault((source, target), []).append((input_nr, child_output))
    for (source, target), uses in links.items():
        edges.append(Edge(source, target, _edge_label(uses, boxes[source].kind == COLLAPSED)))

    note = ""
    if hidden:
        note = f"{hidden} more nodes not shown (max_nodes={max_nodes})"
        boxes[more_key].title = f"... {hidden} more nodes"
        boxes[more_key].lines = [f"cut at max_nodes={max_nodes}"]
    return GraphModel(boxes, edges, note, node_keys)


def _edge_label(uses: list[tuple[int, int]], collapsed: bool) -> str:
    """Say which inputs an edge stands for when one node uses the same tensor twice (x * x),
    and which output of the target it is when that is not output 0."""
    parts = []
    inputs = sorted({input_nr for input_nr, _ in uses})
    if len(inputs) > 1 and not collapsed:
        parts.append("inputs " + ", ".join(map(str, inputs)))
    outputs = sorted({output_nr for _, output_nr in uses if output_nr})
    if outputs:
        parts.append("output " + ", ".join(map(str, outputs)))
    return "; ".join(parts)


def _node_of(tensor: Tensor) -> Node | None:
    if tensor.grad_fn is not None:
        return tensor.grad_fn
    if tensor.requires_grad:
        return tensor._get_grad_accumulator()
    return None


def _collapse_runs(nodes: list[Node], minimum: int) -> dict[int, list[Node]]:
    """Runs of >= `minimum` nodes of one op, each the only consumer of the next, by first id."""
    consumers: dict[int, int] = {}
    for node in nodes:
        for child, _ in node.next_functions:
            if child is not None:
                consumers[id(child)] = consumers.get(id(child), 0) + 1
    chain_next: dict[int, Node] = {}
    for node in nodes:
        if isinstance(node, AccumulateGrad):
            continue
        same = [child for child, _ in node.next_functions if child is not None and type(child) is type(node)]
        if len(same) == 1 and consumers.get(id(same[0])) == 1:
            chain_next[id(node)] = same[0]
    continued = {id(node) for node in chain_next.values()}
    groups: dict[int, list[Node]] = {}
    for node in nodes:
        if id(node) in continued or id(node) not in chain_next:
            continue
        run = [node]
        while id(run[-1]) in chain_next:
            run.append(chain_next[id(run[-1])])
        if len(run) >= minimum:
            groups[id(node)] = run
    return groups


def _keep_nearest(root_nodes, groups, max_nodes):
    """Boxes (a node, or a collapsed run) in breadth-first order from the roots, at most
    `max_nodes`; returns {representative: members} and how many boxes were left out."""
    member_of: dict[int, Node] = {}
    for run in groups.values():
        for member in run:
            member_of[id(member)] = run[0]
    kept: dict[Node, list[Node]] = {}
    seen: set[int] = set()
    queue: deque[Node] = deque()
    hidden = 0

    def visit(node: Node) -> None:
        nonlocal hidden
        representative = member_of.get(id(node), node)
        if id(representative) in seen:
            return
        seen.add(id(representative))
        if len(kept) >= max_nodes:
            hidden += 1
        else:
            kept[representative] = groups.get(id(representative), [representative])
        queue.append(representative)

    for node in root_nodes:
        if node is not None:
            visit(node)
    while queue:
        representative = queue.popleft()
        for member in groups.get(id(representative), [representative]):
            for child, _ in member.next_functions:
                if child is not None:
                    visit(child)
    return kept, hidden


def _output_box(key: int, tensor: Tensor, names: _Names, show_grads: bool) -> Box:
    name = None
    if tensor.grad_fn is not None:
        name = names.outputs.get((id(tensor.grad_fn), tensor._output_nr))
    else:
        name = names.leaves.get(id(tensor))
    title = f"{name + ': ' if name else ''}output, {_shape_words(tensor.shape)}, {_dtype_name(tensor._data)}"
    box = Box(key, OUTPUT, title)
    if tensor._data.size <= 6:
        box.lines.append(f"value = {describe_value(tensor)}")
    if not tensor.requires_grad:
        box.flags.add("nograd")
        box.lines.append("requires_grad=False: no graph")
    if tensor._version:
        box.lines.append(f"version {tensor._version} (changed in place)")
    if show_grads and tensor.grad_fn is not None and tensor._retains_grad and tensor._grad is not None:
        box.flags.add("retained")
        box.lines.append(f"grad = {describe_value(tensor._grad)} (retained)")
    return box


def _node_box(key: int, members: list[Node], names: _Names, show_saved: bool, show_grads: bool) -> Box:
    node = members[0]
    if len(members) > 1:
        box = Box(key, COLLAPSED, f"{type(node).__name__} × {len(members)}", count=len(members), node=node)
        box.lines.append(f"a run of {len(members)} identical ops")
        if any(member._released for member in members):
            box.flags.add("freed")
            box.lines.append("saved values: FREED")
        return box
    if isinstance(node, AccumulateGrad):
        return _leaf_box(key, node, names, show_grads)
    name = names.of_node(node)
    label = type(node).__name__ if name is None else f"{type(node).__name__} ({name})"
    box = Box(key, OP, type(node).__name__, node=node, name=label)
    if name is not None:
        box.lines.append(f"grad_fn of {name}")
    if show_saved:
        box.lines.extend(_saved_lines(node, box))
    _hook_lines(box, node)
    if show_grads and node._retain_grad_hooks:
        for output_nr, reference in sorted(node._retain_grad_hooks.items()):
            tensor = reference()
            if tensor is None:
                continue
            box.flags.add("retained")
            grad = "None yet" if tensor._grad is None else describe_value(tensor._grad)
            label = f" [{output_nr}]" if output_nr else ""
            box.lines.append(f"retain_grad{label}: grad = {grad}")
    return box


def _saved_lines(node: Node, box: Box) -> list[str]:
    """One line per saved value: shape and version, or that backward freed it."""
    if node._released:
        box.flags.add("freed")
        return ["saved values: FREED by backward"]
    if not node._saved:
        return []
    lines = []
    for name, (value, version) in _named_saved(node):
        if version is not None and type(value) is tuple and len(value) == 3:
            value = node._rebuild(value)  # an input record: the input itself (Note [Saved records])
        if not (is_output_record(value, version) or isinstance(value, Tensor | np.ndarray)):
            continue  # a number or shape: a parameter of the op, not a saved tensor
        label = f"_saved_{name}"
        if type(value) is tuple:
            current = value[1][0]
            text = f"{label}: its own output, {_shape_words(value[0].shape)}"
        elif isinstance(value, Tensor):
            current = value._version
            if value._data.size <= 3 and current == version:
                text = f"{label} = {describe_value(value)}"
            else:
                text = f"{label}: {_shape_words(value.shape)}"
        else:
            lines.append(f"{label}: {value!r}")
            continue
        if version is not None and current != version:
            box.flags.add("bumped")
            text += f", saved at version {version}, now {current}: CHANGED IN PLACE"
        lines.append(text)
    return lines


def _named_saved(node: Node) -> list[tuple[str, tuple]]:
    """(name, (value, version)) per saved value, named as PyTorch names them (`self`, `other`,
    `result`: see Note [Saved names] in autograd/graph.py), so `_saved_<name>` reads it."""
    named = getattr(node, "_named_saved_values", None)
    if named is not None:
        return named()
    pairs = zip(node._saved, node._saved_versions or (None,) * len(node._saved))
    return [(str(index), pair) for index, pair in enumerate(pairs)]


def _hook_lines(box: Box, node: Node) -> None:
    counts = {
        "pre-hook": len(node._pre_hooks or {}),
        "hook": len(node._hooks or {}),
        "tensor hook": sum(len(hooks) for hooks in (node._tensor_pre_hooks or {}).values()),
    }
    _add_hook_line(box, counts)


def _add_hook_line(box: Box, counts: dict[str, int]) -> None:
    parts = [f"{count} {kind}{'s' if count > 1 else ''}" for kind, count in counts.items() if count]
    if parts:
        box.flags.add("hooked")
        box.lines.append("hooks: " + ", ".join(parts))


def _leaf_box(key: int, node: AccumulateGrad, names: _Names, show_grads: bool) -> Box:
    variable = node.variable
    name = names.of_node(node)
    named = f"{name}: " if name else ""
    title = f"{named}leaf, {_shape_words(variable.shape)}, {_dtype_name(variable._data)}"
    box = Box(key, LEAF, title, node=node, name=name or f"the leaf ({_shape_words(variable.shape)})")
    box.lines.append("AccumulateGrad, requires_grad=True")
    if show_grads:
        if variable._grad is None:
            box.lines.append("grad = None")
        else:
            box.flags.add("has_grad")
            box.lines.append(f"grad = {describe_value(variable._grad)}")
    _add_hook_line(
        box,
        {
            "hook": len(variable._backward_hooks or {}),
            "post-accumulate hook": len(variable._post_accumulate_hooks or {}),
        },
    )
    return box


def _note_constant_input(box: Box, input_nr: int, members: int) -> None:
    if members == 1 and box.kind == OP:
        box.lines.append(f"input {input_nr}: constant, no grad")
