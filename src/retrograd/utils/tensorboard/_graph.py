"""A model's autograd graph as a TensorBoard `GraphDef`, for `SummaryWriter.add_graph`.

PyTorch traces the forward pass with TorchScript. retrograd records no forward trace, so it
draws what autograd recorded: the model runs once on detached copies of the inputs that
require grad (so the inputs show up as leaves), and the walk from each output's grad_fn
gives one node per backward node (`AddmmBackward0`, ...), one per parameter (named by
`named_parameters`) and one per input, with an edge wherever a gradient flows.
"""

from __future__ import annotations

from tensorboard.compat.proto.graph_pb2 import GraphDef
from tensorboard.compat.proto.node_def_pb2 import NodeDef
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
    return list(reversed(found))


class _GraphBuilder:
    """Names each autograd node once, walking iteratively from the outputs' grad_fns."""

    def __init__(self, scope: str, leaf_names: dict[int, str]):
        self.scope = scope
        self.leaf_names = leaf_names
        self.names: dict[int, str] = {}
        self.nodes: dict[int, object] = {}

    def _name(self, node) -> str:
        variable = getattr(node, "variable", None)
        if variable is not None and id(variable) in self.leaf_names:
            return self.leaf_names[id(variable)]
        return f"{self.scope}/{node.name()}_{len(self.names)}"

    def visit(self, root) -> str:
        """Name `root` and everything its gradient reaches; return `root`'s name."""
        pending = [root]
        while pending:
            node = pending.pop()
            if id(node) in self.names:
                continue
            self.names[id(node)] = self._name(node)
            self.nodes[id(node)] = node
            pending.extend(parent for parent, _ in node.next_functions if parent is not None)
        return self.names[id(root)]

    def node_defs(self) -> list[NodeDef]:
        """One NodeDef per node, its inputs being the nodes its gradient flows on to."""
        return [
            NodeDef(
                name=self.names[node_id],
                op=node.name(),
                input=[self.names[id(parent)] for parent, _ in node.next_functions if parent is not None],
            )
            for node_id, node in self.nodes.items()
        ]


def autograd_graph(model, input_to_model=None, verbose: bool = False) -> GraphDef:
    """Run `model` on `input_to_model` and return the recorded graph as a GraphDef."""
    inputs = tuple(
        item.detach().requires_grad_(item.dtype.is_floating_point) if isinstance(item, Tensor) else item
        for item in _as_tuple(input_to_model)
    )
    scope = type(model).__name__
    leaf_names = {
        id(parameter): f"{scope}/{name.replace('.', '/')}" for name, parameter in model.named_parameters()
    }
    for index, item in enumerate(inputs):
        if isinstance(item, Tensor):
            leaf_names[id(item)] = f"input/{index}"
    with enable_grad():
        outputs = _tensors_in(model(*inputs))
    builder = _GraphBuilder(scope, leaf_names)
    output_nodes = [
        NodeDef(name=f"output/{index}", op="output", input=[builder.visit(output.grad_fn)])
        for index, output in enumerate(outputs)
        if output.grad_fn is not None
    ]
    nodes = builder.node_defs() + output_nodes
    if verbose:
        for node in nodes:
            print(f"{node.name} = {node.op}({', '.join(node.input)})")
    return GraphDef(node=nodes, versions=VersionDef(producer=22))
