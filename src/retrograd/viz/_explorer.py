"""`explore(root, path)`: one self-contained HTML page that steps through the backward pass.

The pass is the engine's own: it runs dry and reports each step to an observer (Note
[Observing the pass] in autograd/engine.py), so the page follows the one schedule, hooks
included. Nothing is written to the graph: no `.grad` is filled, no saved value is freed;
the page shows what a real `root.backward()` would do. User hooks do run once while
recording.
"""

from __future__ import annotations

import json
import os

import numpy as np

from .._tensor import Tensor
from ..autograd import engine
from ..autograd.graph import AccumulateGrad, Node
from . import _render
from ._model import GraphModel, build_model, describe_value, walk_nodes
from ._page import PAGE_TEMPLATE

__all__ = ["explore", "record_backward"]


def explore(root: Tensor, path: str | os.PathLike = "graph.html", params: dict | None = None,
            gradient: Tensor | None = None, max_nodes: int = 300) -> ExplorerPage:
    """Write the explorer page for `root.backward(gradient)` to `path` and return the path
    (a str that Jupyter displays as the page itself, inline).

    Open it in any browser (no network needed); step with the buttons or the arrow keys,
    click a box for its details. `params` names tensors as in `draw`. The page steps
    through every node, so graphs of more than `max_nodes` nodes are refused: draw() them.
    """
    if not isinstance(root, Tensor):
        raise TypeError(f"explore() needs a Tensor, got {type(root).__name__}")
    if root.grad_fn is not None:
        count = len(walk_nodes([root.grad_fn]))
        if count > max_nodes:
            raise ValueError(
                f"this graph has {count} nodes, more than max_nodes={max_nodes}: stepping through it "
                "one node at a time would not help. Use retrograd.viz.draw() for large graphs, or raise "
                "max_nodes."
            )
    model = build_model([root], params, show_grads=False, collapse=0, max_nodes=max_nodes)
    _number_look_alikes(model)
    steps = record_backward(root, model, gradient)
    scene = _render.to_scene(model)
    page = _page(model, scene, steps)
    path = os.fspath(path)
    with open(path, "w", encoding="utf-8") as file:
        file.write(page)
    return ExplorerPage(path, page)


class ExplorerPage(str):
    """The path `explore()` wrote (a str, as before), which Jupyter shows as the page itself.

    As the last expression of a notebook cell, `retrograd.viz.explore(y, "y.html")` displays
    the explorer inline (in an iframe holding the whole page, so it needs no file server).
    """

    page: str

    def __new__(cls, path: str, page: str):
        made = super().__new__(cls, path)
        made.page = page
        return made

    def _repr_html_(self) -> str:
        import html

        return (f'<iframe srcdoc="{html.escape(self.page, quote=True)}" title="retrograd explorer" '
                'style="width: 100%; height: 560px; border: 1px solid #dee2e6;"></iframe>')


def _number_look_alikes(model: GraphModel) -> None:
    """Boxes that would read alike in the step texts ("MulBackward0") get #1, #2, ..."""
    by_name: dict[str, list] = {}
    for box in model.boxes.values():
        if box.name:
            by_name.setdefault(box.name, []).append(box)
    for boxes in by_name.values():
        if len(boxes) > 1:
            for number, box in enumerate(boxes, 1):
                box.name = f"{box.name} #{number}"
                box.title = f"{box.title} #{number}"


def record_backward(root: Tensor, model: GraphModel, gradient: Tensor | None = None) -> list[dict]:
    """The steps of `root.backward(gradient)`: which node runs, what arrives, what it sends.

    The engine runs the pass itself, dry (see Note [Observing the pass] in
    autograd/engine.py), and tells a `_StepRecorder` each step.
    """
    from ..autograd._passes import _output_edges, _root_gradients

    (root_edge,) = _output_edges((root,))
    (root_grad,) = _root_gradients((root,), (gradient,) if gradient is not None else ())
    root_grad = engine._as_tensor(root_grad)
    root_node = root_edge[0]
    _refuse_freed_graph(root_node)
    recorder = _StepRecorder(model)
    recorder.arrivals[root_node] = [{"from": -1, "value": describe_value(root_grad)}]
    root_key = model.node_keys.get(id(root_node))
    recorder.steps.append({
        "kind": "start",
        "key": root_key,
        "edges": [{"id": f"e-1_{root_key}", "value": describe_value(root_grad)}],
        "text": f"backward() starts: the gradient {describe_value(root_grad)} (d output / d output) "
                f"arrives at {type(root_node).__name__}.",
    })
    engine.execute([root_edge], [root_grad], keep_graph=True, create_graph=False, accumulate=False,
                   observer=recorder)
    recorder.steps.append({"kind": "end", "key": None, "edges": [],
                           "text": "backward() is done: every leaf on a path from the output has its .grad."})
    return recorder.steps


class _StepRecorder:
    """Told each step of a dry backward pass by the engine; writes the page's step list."""

    dry_run = True

    def __init__(self, model: GraphModel):
        self.keys = model.node_keys
        self.names = {key: box.name or box.title for key, box in model.boxes.items()}
        self.steps: list[dict] = []
        self.arrivals: dict[Node, list[dict]] = {}
        self.arrived_grads: dict[Node, list] = {}

    def arrived(self, node: Node, grads: list) -> None:
        self.arrived_grads[node] = grads

    def ran(self, node: Node, grads: list, sent: list) -> None:
        before = self.arrived_grads.pop(node)
        received = self.arrivals.pop(node, [])
        arrived = _arrived_text(before, received) + _hook_note(before, grads)
        if type(node) is AccumulateGrad:
            self.steps.append(_leaf_step(node, grads[0], arrived, received, self.keys, self.names))
            return
        self.steps.append(_node_step(node, sent, arrived, received, self.keys, self.names))
        self.steps[-1]["text"] += _retained_text(node, grads)
        for (child, _), grad in zip(node.next_functions, sent):
            if child is not None and grad is not None:
                self.arrivals.setdefault(child, []).append(
                    {"from": self.keys.get(id(node)), "value": describe_value(grad)})


def _refuse_freed_graph(root_node: Node) -> None:
    for node in walk_nodes([root_node]):
        if node._released:
            raise RuntimeError(
                f"cannot explore this backward pass: the saved values of {type(node).__name__} were "
                "freed by an earlier backward. Run the forward again (or call backward with "
                "retain_graph=True) first."
            )


def _arrived_text(grad_outputs: list, received: list[dict]) -> str:
    """What arrived at a node: the gradient, as a sum of its parts when several edges fed it."""
    present = [grad for grad in grad_outputs if grad is not None]
    if not present:
        return "nothing"
    if len(present) > 1:
        return ", ".join(describe_value(grad) for grad in present)
    if len(received) <= 1:
        return describe_value(present[0])
    return " + ".join(item["value"] for item in received) + f" = {describe_value(present[0])}"


def _hook_note(before: list, after: list) -> str:
    changed = [
        describe_value(new) if new is not None else "None"
        for old, new in zip(before, after)
        if old is not new and (old is None or new is None or (
            old._data is not new._data and not np.array_equal(old._data, new._data, equal_nan=True)))
    ]
    return f" (a hook changed it to {', '.join(changed)})" if changed else ""


def _leaf_step(node, grad, arrived, received, keys, names) -> dict:
    key = keys.get(id(node))
    name = names.get(key, "the leaf")
    before = node.variable._grad
    if grad is None:
        after = before
    elif before is None:
        after = grad
    else:
        after = before + grad
    before_text = "None" if before is None else describe_value(before)
    after_text = "None" if after is None else describe_value(after)
    holder = "its .grad" if name.startswith("the leaf") else f"{name}.grad"
    text = (f"AccumulateGrad of {name} runs: it receives {arrived}, so {holder} goes from {before_text} "
            f"to {after_text}.")
    if before is not None:
        text += " (The earlier .grad is added to: gradients accumulate until zeroed.)"
    return {"kind": "leaf", "key": key, "received": received, "total": arrived, "edges": [],
            "grad": after_text, "name": type(node).__name__, "text": text}


def _node_step(node, grad_inputs, arrived, received, keys, names) -> dict:
    key = keys.get(id(node))
    sent = []
    parts = []
    for (child, _), grad in zip(node.next_functions, grad_inputs):
        if child is None or grad is None:
            continue
        child_key = keys.get(id(child))
        value = describe_value(grad)
        edge_id = f"e{key}_{child_key}"
        same_edge = [edge for edge in sent if edge["id"] == edge_id]
        if same_edge:
            same_edge[0]["value"] += f" + {value}"
        else:
            sent.append({"id": edge_id, "value": value})
        parts.append(f"{value} to {names.get(child_key, type(child).__name__)}")
    freed = node._saved is not None
    text = f"{names.get(key, type(node).__name__)} runs: gradient {arrived} arrived"
    text += "; it sends " + ", ".join(parts) + "." if parts else "; it sends nothing."
    if freed:
        text += " Its saved values are freed now (unless retain_graph=True)."
    return {"kind": "node", "key": key, "received": received, "total": arrived, "edges": sent,
            "freed": freed, "name": type(node).__name__, "text": text}


def _retained_text(node: Node, grad_outputs: list) -> str:
    """What `retain_grad()` on the node's output keeps: its `.grad` after this pass."""
    text = ""
    for output_nr, reference in sorted((node._retain_grad_hooks or {}).items()):
        tensor = reference()
        if tensor is None or output_nr >= len(grad_outputs) or grad_outputs[output_nr] is None:
            continue
        grad = grad_outputs[output_nr]
        kept = grad if tensor._grad is None else tensor._grad + grad
        text += f" Its output called retain_grad(), so that tensor's .grad becomes {describe_value(kept)}."
    return text


def _page(model: GraphModel, scene: dict, steps: list[dict]) -> str:
    label_positions = {}
    for shape in scene["shapes"]:
        if shape["type"] == "line":
            x, y, anchor = _render.label_position(shape["points"])
            label_positions[shape["id"]] = [round(x, 1), round(y, 1), anchor]
    details = {
        f"n{key}": {"title": box.title, "name": box.name or box.title, "lines": box.lines}
        for key, box in model.boxes.items()
    }
    data = {"steps": steps, "labels": label_positions, "details": details, "note": model.note}
    payload = json.dumps(data).replace("</", "<\\/")
    return (PAGE_TEMPLATE.replace("__SVG__", _render.scene_to_svg(scene))
            .replace("__DATA__", payload))

