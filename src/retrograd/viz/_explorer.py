"""`explore(root, path)`: one self-contained HTML page that steps through the backward pass.

The pass is recorded by replaying the engine's schedule (Note [The backward pass] in
autograd/engine.py: dependency counts, then a ready stack) and calling each node's
backward, with its hooks, on the gradients that arrived. Nothing is written to the graph:
no `.grad` is filled, no saved value is freed; the page shows what a real
`root.backward()` would do. User hooks do run once while recording.
"""

from __future__ import annotations

import json
import os

import numpy as np

from .._tensor import Tensor
from ..autograd import engine, grad_mode
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
    """The steps of `root.backward(gradient)`: which node runs, what arrives, what it sends."""
    from ..autograd import _output_edges, _root_gradients

    (root_edge,) = _output_edges((root,))
    (root_grad,) = _root_gradients((root,), (gradient,) if gradient is not None else ())
    root_node = root_edge[0]
    _refuse_freed_graph(root_node)
    keys = model.node_keys
    names = {key: box.name or box.title for key, box in model.boxes.items()}
    dependencies = engine._count_dependencies([root_node])
    buffers: dict[Node, list] = {root_node: [root_grad]}
    arrivals: dict[Node, list[dict]] = {root_node: [{"from": -1, "value": describe_value(root_grad)}]}
    steps = [{
        "kind": "start",
        "key": keys.get(id(root_node)),
        "edges": [{"id": f"e-1_{keys.get(id(root_node))}", "value": describe_value(root_grad)}],
        "text": f"backward() starts: the gradient {describe_value(root_grad)} (d output / d output) "
                f"arrives at {root_node.name()}.",
    }]
    ready = [root_node]
    ready_leaves: list[Node] = []
    with grad_mode.no_grad():
        while ready:
            node = ready.pop()
            grad_outputs = buffers.pop(node)
            received = arrivals.pop(node, [])
            arrived = _arrived_text(grad_outputs, received)
            hooked = _run_tensor_hooks(node, grad_outputs)
            if type(node) is AccumulateGrad:
                hooked = [engine._run_leaf_hooks(node.variable, hooked[0])]
                arrived += _hook_note(grad_outputs, hooked)
                steps.append(_leaf_step(node, hooked[0], arrived, received, keys, names))
                continue
            arrived += _hook_note(grad_outputs, hooked)
            grad_inputs = engine._run_node(node, list(hooked))
            steps.append(_node_step(node, grad_inputs, arrived, received, keys, names))
            steps[-1]["text"] += _retained_text(node, hooked)
            for (child, output_nr), grad in zip(node.next_functions, grad_inputs):
                if child is None:
                    continue
                if grad is not None:
                    engine._deliver(buffers, child, output_nr, grad)
                    arrivals.setdefault(child, []).append(
                        {"from": keys.get(id(node)), "value": describe_value(grad)})
                dependencies[child] -= 1
                if dependencies[child] == 0:
                    buffers.setdefault(child, [None])
                    (ready_leaves if type(child) is AccumulateGrad else ready).append(child)
            ready.extend(reversed(ready_leaves))  # leaves a node readied run next, as the engine does
            ready_leaves.clear()
    steps.append({"kind": "end", "key": None, "edges": [],
                  "text": "backward() is done: every leaf on a path from the output has its .grad."})
    return steps


def _refuse_freed_graph(root_node: Node) -> None:
    for node in walk_nodes([root_node]):
        if node._released:
            raise RuntimeError(
                f"cannot explore this backward pass: the saved values of {node.name()} were freed by an "
                "earlier backward. Run the forward again (or call backward with retain_graph=True) first."
            )


def _run_tensor_hooks(node: Node, grad_outputs: list) -> list:
    """Hooks registered on the node's non-leaf outputs (retained grads are not written)."""
    if node._tensor_pre_hooks is None:
        return grad_outputs
    grad_outputs = list(grad_outputs)
    for output_nr, hooks in node._tensor_pre_hooks.items():
        if output_nr < len(grad_outputs) and grad_outputs[output_nr] is not None:
            for hook in list(hooks.values()):
                replaced = hook(grad_outputs[output_nr])
                if replaced is not None:
                    grad_outputs[output_nr] = replaced
    return grad_outputs


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
        if old is not new and (old is None or new is None or not np.array_equal(old._data, new._data))
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
            "grad": after_text, "name": node.name(), "text": text}


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
        parts.append(f"{value} to {names.get(child_key, child.name())}")
    freed = node._saved is not None
    text = f"{names.get(key, node.name())} runs: gradient {arrived} arrived"
    text += "; it sends " + ", ".join(parts) + "." if parts else "; it sends nothing."
    if freed:
        text += " Its saved values are freed now (unless retain_graph=True)."
    return {"kind": "node", "key": key, "received": received, "total": arrived, "edges": sent,
            "freed": freed, "name": node.name(), "text": text}


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

