"""`retrograd.explain(tensor_or_error)`: why a `.grad` is None (or what it is), in words.

Given a tensor it reads the autograd state (requires_grad, grad_fn, retained grad,
freed graph, version counters, hooks) and says what a backward does or did to it, with
the fix when something is likely wrong. Given an autograd error it explains the error.
It reads the graph and changes nothing (a check against `output` uses `autograd.grad`
with `retain_graph=True`, which fills no `.grad`).
"""

from __future__ import annotations

import re

from ._tensor import Tensor
from .autograd.graph import AccumulateGrad, CopyBackwards

__all__ = ["Explanation", "explain"]


class Explanation:
    """A short English account; printing it (or its repr in a REPL) shows the text."""

    def __init__(self, summary: str, reasons: list[str]):
        self.summary = summary
        self.reasons = reasons

    @property
    def text(self) -> str:
        """The whole explanation as text: the summary, then one "- " line per reason."""
        return "\n".join([self.summary, *(f"- {reason}" for reason in self.reasons)])

    def __str__(self) -> str:
        return self.text

    __repr__ = __str__

    def __contains__(self, words: str) -> bool:
        return words in self.text


def explain(subject, output: Tensor | None = None) -> Explanation:
    """Explain a tensor's autograd state (why `.grad` is None, or where it came from), or an
    autograd error. `output`: the tensor backward starts from, to check it reaches `subject`.

    >>> import retrograd
    >>> x = retrograd.tensor(2.0)
    >>> print(retrograd.explain(x).summary)
    Its .grad is None because this tensor of shape (), retrograd.float32 does not require grad.
    """
    if isinstance(subject, BaseException):
        return _explain_error(subject)
    if not isinstance(subject, Tensor):
        raise TypeError(f"explain() takes a Tensor or an exception, got {type(subject).__name__}")
    if subject.grad_fn is not None:
        return _explain_non_leaf(subject)
    if not subject.requires_grad:
        return _explain_no_grad(subject)
    return _explain_leaf(subject, output)


# ---------------------------------------------------------------------------
# Tensors


def _describe(tensor: Tensor) -> str:
    return f"tensor of shape {tuple(tensor.shape)}, {tensor.dtype!r}"


def _explain_no_grad(tensor: Tensor) -> Explanation:
    reasons = []
    if not tensor.dtype.is_floating_point:
        reasons.append(
            f"Its dtype is {tensor.dtype!r}: only floating point tensors can require grad. Integer and "
            "boolean results (comparisons such as x > 0, argmax, .long(), .round() to int) are not "
            "differentiable, so no gradient flows back through them to the tensors they came from."
        )
    elif tensor._is_inference:
        reasons.append(
            "It was created under inference_mode(): such tensors never record a graph. Compute it "
            "outside inference_mode() (or clone() it there) if you need gradients."
        )
    else:
        reasons.append(
            "It has no grad_fn and requires_grad=False. Either it was created that way (tensors start "
            "with requires_grad=False: pass requires_grad=True or call .requires_grad_()), or it was "
            "computed under no_grad(), or cut from its graph by .detach() or .data; none of these "
            "record a history, so backward never reaches it."
        )
    reasons.append("Its .grad stays None whatever backward you call.")
    _add_version(tensor, reasons)
    return Explanation(f"Its .grad is None because this {_describe(tensor)} does not require grad.", reasons)


def _explain_non_leaf(tensor: Tensor) -> Explanation:
    node = tensor.grad_fn
    summary = (f"This is a non-leaf {_describe(tensor)}, computed by {node.name()} "
               "(it has a grad_fn, so it is not a leaf).")
    reasons = []
    if not tensor._retains_grad:
        reasons.append(
            "Its .grad is None: backward computes the gradient of a non-leaf on the way to the leaves "
            "but does not keep it, to save memory. Fix: call .retain_grad() on it before backward, or "
            "get the gradient directly with retrograd.autograd.grad(output, it)."
        )
    elif tensor._grad is None:
        reasons.append("retain_grad() is on, but no backward has reached it yet, so .grad is None.")
    else:
        from .viz._model import describe_value

        reasons.append(f"retain_grad() is on: its .grad holds {describe_value(tensor._grad)}.")
    freed = _first_freed(node)
    if freed is not None:
        reasons.append(
            f"Its graph was already freed ({freed.name()} lost its saved values) by a backward without "
            "retain_graph=True. A second backward through it raises 'Trying to backward through the graph "
            "a second time'. Fix: pass retain_graph=True to the first backward, or run the forward again."
        )
    _add_tensor_hooks(tensor, reasons)
    _add_version(tensor, reasons)
    return Explanation(summary, reasons)


def _explain_leaf(tensor: Tensor, output: Tensor | None) -> Explanation:
    from .viz._model import describe_value

    reasons = []
    grad = tensor._grad
    if grad is None:
        summary = f"This is a leaf {_describe(tensor)} that requires grad; its .grad is None so far."
        reasons.extend(_why_no_grad_yet(tensor, output))
    else:
        summary = (f"This is a leaf {_describe(tensor)} that requires grad; "
                   f"its .grad is {describe_value(grad)}.")
        reasons.extend(_accumulation(grad))
    if tensor._backward_hooks:
        count = len(tensor._backward_hooks)
        reasons.append(
            f"It has {count} hook{'s' if count > 1 else ''} (register_hook): a hook that returns a tensor "
            "replaces the gradient before it is accumulated; one that returns None leaves it unchanged."
        )
    return Explanation(summary, reasons)


def _why_no_grad_yet(tensor: Tensor, output: Tensor | None) -> list[str]:
    if output is None:
        return [
            "No backward has written to it yet. Either backward was not called, or the output it started "
            "from does not reach this tensor through differentiable operations: the path went through "
            ".detach(), .data, no_grad(), or an integer/boolean op (x > 0, argmax). Check with "
            "retrograd.explain(x, output=y)."
        ]
    if not output.requires_grad:
        return [
            "The output does not require grad, so backward from it raises an error and reaches nothing: "
            "it was computed without any tensor that requires grad on a differentiable path "
            "(for example only through integer or boolean ops, .detach(), .data or under no_grad())."
        ]
    if not _reaches(output, tensor):
        return [
            "It is not reachable from that output: the output's graph does not contain it. If the output "
            "was computed from it, the path went through a non-differentiable step: .detach(), .data, "
            "no_grad(), or an integer/boolean op (a comparison, argmax, .long())."
        ]
    freed = _first_freed(output.grad_fn) if output.grad_fn is not None else None
    if freed is not None:
        return [
            f"The output's graph reaches it but was already freed ({freed.name()}): run the forward again, "
            "or use retain_graph=True on the first backward."
        ]
    from .autograd import grad as autograd_grad
    from .viz._model import describe_value

    (value,) = autograd_grad(output, tensor, retain_graph=True, allow_unused=True)
    if value is None:
        return ["The output reaches it, but a hook on the way replaced its gradient with None."]
    return [f"The output reaches it: output.backward() would add {describe_value(value)} to its .grad."]


def _accumulation(grad: Tensor) -> list[str]:
    """How many backward passes added into `.grad` (version bumps and create_graph sums)."""
    passes = 1
    node = grad.grad_fn
    while type(node) is CopyBackwards:
        below = node.next_functions[0][0]
        is_sum = below is not None and below.name() == "AddBackward0"
        if not is_sum or type(below.next_functions[0][0]) is not CopyBackwards:
            break
        passes += 1
        node = below.next_functions[0][0]
    in_place = grad._version
    reasons = []
    if passes > 1 or in_place:
        total = passes + in_place
        reasons.append(
            f"This gradient was accumulated: .grad was written by one backward and then added to "
            f"{total - 1} more time{'s' if total > 2 else ''} (it was changed in place {in_place} "
            f"time{'s' if in_place != 1 else ''}; zero_() counts too). Gradients add up across backward "
            "calls unless you reset them: the previous gradient was not zeroed. Set x.grad = None (or "
            "x.grad.zero_(), optimizer.zero_grad()) before the next backward if you want only the new one."
        )
    if grad.grad_fn is not None:
        reasons.append(
            f".grad has grad_fn=<{grad.grad_fn.name()}> because it was computed with create_graph=True: "
            "it is differentiable itself (for second derivatives), and a backward through it adds into "
            "this same .grad."
        )
    return reasons


def _reaches(output: Tensor, leaf: Tensor) -> bool:
    from .viz._model import walk_nodes

    root = output.grad_fn if output.grad_fn is not None else output._get_grad_accumulator()
    return any(type(node) is AccumulateGrad and node.variable is leaf for node in walk_nodes([root]))


def _first_freed(node):
    from .viz._model import walk_nodes

    for candidate in walk_nodes([node]):
        if candidate._released:
            return candidate
    return None


def _add_tensor_hooks(tensor: Tensor, reasons: list[str]) -> None:
    hooks = (tensor.grad_fn._tensor_pre_hooks or {}).get(tensor._output_nr) or {}
    if hooks:
        reasons.append(
            f"It has {len(hooks)} hook{'s' if len(hooks) > 1 else ''}: each sees its gradient during "
            "backward; one that returns a tensor replaces the gradient flowing on, one that returns None "
            "leaves it."
        )


def _add_version(tensor: Tensor, reasons: list[str]) -> None:
    if tensor._version:
        reasons.append(
            f"It was changed in place {tensor._version} time{'s' if tensor._version > 1 else ''} (version "
            f"counter {tensor._version}). If an operation saved it for backward before a change, that "
            "backward raises 'modified by an inplace operation'."
        )


# ---------------------------------------------------------------------------
# Errors

_VERSION_ERROR = re.compile(
    r"\[(?P<type>[\w.]+) \[(?P<shape>[\d, ]*)\]\](?:, which is output (?P<output>\d+) of (?P<op>\w+),)? "
    r"is at version (?P<now>\d+); expected version (?P<then>\d+)"
)


def _explain_error(error: BaseException) -> Explanation:
    message = str(error)
    if "modified by an inplace operation" in message:
        return _explain_version_error(message)
    if "backward through the graph a second time" in message:
        return Explanation(
            "A second backward went through a graph whose saved values were already freed.",
            [
                "backward() (and autograd.grad) frees the values each operation saved for its gradient as "
                "soon as it has used them, to save memory. Going through the same graph again then finds "
                "nothing to compute with.",
                "Fix: pass retain_graph=True to every backward except the last one through this graph, or "
                "run the forward pass again before the next backward (the usual choice in a training loop).",
                "Use retrograd.viz.draw(output) to see which nodes were freed (drawn dashed, 'FREED').",
            ],
        )
    if "does not require grad and does not have a grad_fn" in message:
        return Explanation(
            "backward or autograd.grad was asked to differentiate a tensor that has no graph.",
            [
                "The tensor you differentiate neither requires grad nor has a grad_fn, so there is nothing "
                "to go back through. A common case: differentiating a first derivative that was computed "
                "without create_graph=True; that derivative is a plain tensor.",
                "Fix: compute the first derivative with create_graph=True (autograd.grad(y, x, "
                "create_graph=True) or y.backward(create_graph=True)). Otherwise check that the output was "
                "not computed under no_grad(), from .detach()ed tensors, or from tensors without "
                "requires_grad=True.",
            ],
        )
    if "grad can be implicitly created only for scalar outputs" in message:
        return Explanation(
            "backward() without a gradient works only on a tensor of one element.",
            [
                "For a tensor with several elements backward needs to know how to weigh each one.",
                "Fix: reduce it first (y.sum().backward(), y.mean().backward()), or pass the weights: "
                "y.backward(gradient=retrograd.ones_like(y)).",
            ],
        )
    if "leaf Variable that requires grad is being used in an in-place operation" in message:
        return Explanation(
            "An in-place operation tried to change a leaf that requires grad.",
            [
                "Its gradient is defined for the value it had when the graph started; changing it in place "
                "would make that gradient wrong.",
                "Fix: update it under `with retrograd.no_grad():` (as optimizers do), or use an "
                "out-of-place operation (x = x + 1) that makes a new tensor.",
            ],
        )
    if "appears to not have been used in the graph" in message:
        return Explanation(
            "autograd.grad was asked for the gradient of an input the output does not depend on.",
            ["Fix: pass allow_unused=True to get None for it (materialize_grads=True gives zeros)."],
        )
    return Explanation("retrograd has no explanation for this error yet.",
                       [f"{type(error).__name__}: {message}"])


def _explain_version_error(message: str) -> Explanation:
    match = _VERSION_ERROR.search(message)
    reasons = []
    if match:
        shape = match["shape"] or ""
        origin = f", the output of {match['op']}" if match["op"] else ""
        reasons.append(
            f"An operation saved a tensor ({match['type']} of shape [{shape}]{origin}) because its gradient "
            f"needs that value. Afterwards an in-place operation changed it: its version counter went from "
            f"{match['then']} to {match['now']}, so the saved value is no longer the one the gradient needs."
        )
    reasons.extend([
        "In-place operations are the ones ending in _ (add_, mul_, zero_), augmented assignment (x += 1, "
        "x *= 2) and item assignment (x[0] = 1).",
        "Fix: use the out-of-place form (x = x + 1), or clone() the tensor before changing it. "
        "retrograd.viz.draw(output) marks the changed value 'CHANGED IN PLACE'; "
        "retrograd.autograd.set_detect_anomaly(True) shows the forward line that made the failing node.",
    ])
    return Explanation("backward needed a saved value that was changed in place after it was saved.", reasons)
