"""A model's forward pass as a TensorBoard `GraphDef`, for `SummaryWriter.add_graph`.

PyTorch traces the forward pass with TorchScript and logs its ops (`aten::linear`). retrograd
has no tracer; what one forward records is its autograd graph, so that is what is drawn, in
the forward direction: the model runs once on detached copies of the inputs made to require
grad (so that they appear), with a forward hook on every submodule. Each hook claims the
autograd nodes its module's call created (those its outputs reach and its inputs do not),
innermost module first, so every op sits in the scope of the module that ran it, named as
PyTorch names scopes (`Net/Sequential[features]/Linear[0]`). The graph then has, as
PyTorch's has: an `IO Node` per input (named by `forward`'s parameters) and per output, a
`prim::GetAttr` node per parameter in its module's scope, and one node per op (its
autograd node's name, e.g. `AddmmBackward0`) whose inputs are the nodes that produced its
operands, each with `_output_shapes`. Ops on tensors that need no gradient are not recorded
by autograd and so are not drawn.
"""

from __future__ import annotations

import inspect

from tensorboard.compat.proto.attr_value_pb2 import AttrValue
from tensorboard.compat.proto.graph_pb2 import GraphDef
from tensorboard.compat.proto.node_def_pb2 import NodeDef
from tensorboard.compat.proto.tensor_shape_pb2 import TensorShapeProto
from tensorboard.compat.proto.versions_pb2 import VersionDef

from ..._tensor import Tensor
from ...autograd.grad_mode import enable_grad


def _as_tuple(value) -> tuple:
    if value is None:
        return ()
    return tuple(value) if isinstance(value, (list, tuple)) else (value,)


def _tensors_in(value) -> list[Tensor]:
    """The tensors of a model's output: a tensor, or a (nested) tuple, list or dict of them."""
    found, pending = [], [value]
    while pending:
        item = pending.pop()
        if isinstance(item, Tensor):
            found.append(item)
        elif isinstance(item, dict):
            pending.extend(reversed(list(item.values())))
        elif isinstance(item, (list, tuple)):
            pending.extend(reversed(item))
    return found


def _reachable(roots, stop=frozenset()) -> list:
    """The autograd nodes reachable from `roots` along next_functions, not passing `stop`
    (ids); iterative, so deep graphs do not hit the recursion limit."""
    seen, order, pending = set(stop), [], [root for root in roots if root is not None]
    while pending:
        node = pending.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        order.append(node)
        pending.extend(parent for parent, _ in node.next_functions if parent is not None)
    return order


def _grad_fns(value) -> list:
    return [tensor.grad_fn for tensor in _tensors_in(value) if tensor.grad_fn is not None]


def _module_scopes(model) -> dict[int, str]:
    """id(module) -> its scope: `Net`, `Net/Sequential[features]`, `Net/Sequential[features]/Linear[0]`."""
    scopes = {}
    for path, module in model.named_modules():
        if id(module) in scopes:
            continue
        if not path:
            scopes[id(module)] = type(module).__name__
            continue
        parent_path, _, attribute = path.rpartition(".")
        parent = model.get_submodule(parent_path) if parent_path else model
        scopes[id(module)] = f"{scopes[id(parent)]}/{type(module).__name__}[{attribute}]"
    return scopes


class _ScopeRecorder:
    """Forward hooks that give each autograd node the scope of the module call that made it."""

    def __init__(self, model, scopes: dict[int, str]):
        self.scopes = scopes
        self.scope_of: dict[int, str] = {}
        self.handles = [module.register_forward_hook(self._claim) for module in model.modules()]

    def _claim(self, module, args, output) -> None:
        before = {id(node) for node in _reachable(_grad_fns(args))}
        for node in _reachable(_grad_fns(output), stop=before):
            self.scope_of.setdefault(id(node), self.scopes[id(module)])

    def remove(self) -> None:
        for handle in self.handles:
            handle.remove()


def _shape_attr(shape) -> AttrValue:
    dims = [TensorShapeProto.Dim(size=int(size)) for size in shape]
    return AttrValue(list=AttrValue.ListValue(shape=[TensorShapeProto(dim=dims)]))


def _forward_order(outputs: list[Tensor]) -> list:
    """Every node the outputs reach, producers before the nodes that use them (an iterative
    post-order walk of next_functions)."""
    order, done = [], set()
    stack = [(output.grad_fn, False) for output in reversed(outputs) if output.grad_fn is not None]
    while stack:
        node, expanded = stack.pop()
        if id(node) in done:
            continue
        if expanded:
            done.add(id(node))
            order.append(node)
            continue
        stack.append((node, True))
        stack.extend((parent, False) for parent, _ in reversed(node.next_functions)
                     if parent is not None and id(parent) not in done)
    return order


def _output_shapes(order: list, outputs: list[Tensor]) -> dict[int, tuple]:
    """id(node) -> the shape of what it computed: an output's shape, else the shape its first
    user recorded for that operand (`_input_meta`)."""
    shapes = {id(output.grad_fn): tuple(output.shape) for output in outputs if output.grad_fn is not None}
    for node in order:
        metas = getattr(node, "_input_meta", ()) or ()
        for (parent, _), meta in zip(node.next_functions, metas):
            if parent is not None and meta is not None:
                shapes.setdefault(id(parent), tuple(meta[0]))
    return shapes


def _input_names(model, count: int) -> list[str]:
    """`input/<name>` after `forward`'s positional parameters (as PyTorch names its input nodes)."""
    try:
        parameters = [
            parameter.name for parameter in inspect.signature(model.forward).parameters.values()
            if parameter.kind in (parameter.POSITIONAL_ONLY, parameter.POSITIONAL_OR_KEYWORD)
        ]
    except (TypeError, ValueError):
        parameters = []
    names = parameters[:count] + [f"input.{index + 1}" for index in range(len(parameters), count)]
    return [f"input/{name}" for name in names]


def autograd_graph(model, input_to_model=None, verbose: bool = False) -> GraphDef:
    """Run `model` once on `input_to_model` and return what it recorded as a GraphDef."""
    inputs = tuple(
        item.detach().requires_grad_(item.dtype.is_floating_point) if isinstance(item, Tensor) else item
        for item in _as_tuple(input_to_model)
    )
    scopes = _module_scopes(model)
    recorder = _ScopeRecorder(model, scopes)
    try:
        with enable_grad():
            outputs = _tensors_in(model(*inputs))
    finally:
        recorder.remove()
    root_scope = scopes[id(model)]
    leaf_nodes, leaf_names = [], {}
    for name, parameter in model.named_parameters():
        module_path, _, attribute = name.rpartition(".")
        module = model.get_submodule(module_path) if module_path else model
        leaf_names[id(parameter)] = f"{scopes[id(module)]}/{attribute}"
        leaf_nodes.append(NodeDef(name=leaf_names[id(parameter)], op="prim::GetAttr",
                                  attr={"attr": AttrValue(s=f"{{ name :  {attribute} }}".encode())}))
    input_names = _input_names(model, len(inputs))
    for item, name in zip(inputs, input_names):
        if isinstance(item, Tensor):
            leaf_names[id(item)] = name
            shape = {"_output_shapes": _shape_attr(item.shape)}
            leaf_nodes.append(NodeDef(name=name, op="IO Node", attr=shape))
    order = _forward_order(outputs)
    shapes = _output_shapes(order, outputs)
    names: dict[int, str] = {}
    op_nodes = []
    for node in order:
        variable = getattr(node, "variable", None)
        if variable is not None and id(variable) in leaf_names:
            names[id(node)] = leaf_names[id(variable)]
            continue
        scope = recorder.scope_of.get(id(node), root_scope)
        names[id(node)] = f"{scope}/{node.name()}_{len(op_nodes)}"
        attr = {"_output_shapes": _shape_attr(shapes[id(node)])} if id(node) in shapes else {}
        op_nodes.append(NodeDef(
            name=names[id(node)], op=node.name(), attr=attr,
            input=[names[id(parent)] for parent, _ in node.next_functions if parent is not None],
        ))
    output_nodes = [
        NodeDef(name=f"output/output.{index + 1}", op="IO Node", input=[names[id(output.grad_fn)]],
                attr={"_output_shapes": _shape_attr(output.shape)})
        for index, output in enumerate(output for output in outputs if output.grad_fn is not None)
    ]
    nodes = leaf_nodes + op_nodes + output_nodes
    if verbose:
        for node in nodes:
            print(f"{node.name} = {node.op}({', '.join(node.input)})")
    return GraphDef(node=nodes, versions=VersionDef(producer=22))
