"""`retrograd.explain(tensor_or_error)`: why a `.grad` is None (or what it is), in words.

Given a tensor it reads the autograd state (requires_grad, grad_fn, retained grad,
freed graph, version counters, hooks) and says what a backward does or did to it, with
the fix when something is likely wrong. Given an autograd error it explains the error.
It reads the graph and changes nothing (a check against `output` uses `autograd.grad`
with `retain_graph=True`, which fills no `.grad`).
"""

from __future__ import annotations

import os
import re
import sys
import textwrap

from ._tensor import ORIGIN_BACKWARD, ORIGIN_DATA, ORIGIN_DETACH, ORIGIN_NO_GRAD, ORIGIN_NUMPY, Tensor
from .autograd.graph import AccumulateGrad, CopyBackwards

__all__ = ["Explanation", "explain"]

WIDTH = 100  # explanations wrap at this many columns


class Explanation:
    """A short English account; printing it (or its repr in a REPL) shows the text.

    `summary` is one sentence; `reasons` are the points that follow it, most likely first.
    """

    def __init__(self, summary: str, reasons: list[str]):
        self.summary = summary
        self.reasons = reasons

    @property
    def text(self) -> str:
        """The whole explanation as text, wrapped at 100 columns: the summary, then one "- "
        item per reason."""
        lines = textwrap.wrap(self.summary, WIDTH) or [""]
        for reason in self.reasons:
            lines += textwrap.wrap(reason, WIDTH, initial_indent="- ", subsequent_indent="  ",
                                   break_on_hyphens=False)
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.text

    __repr__ = __str__

    def __contains__(self, words: str) -> bool:
        return words in self.summary or any(words in reason for reason in self.reasons)


def explain(subject, output: Tensor | None = None) -> Explanation:
    """Explain a tensor's autograd state (why `.grad` is None, or where it came from), an
    autograd error, or the gradients of a module's or an optimizer's parameters.

    `output`: the tensor backward starts from, to check it reaches `subject`. Returns an
    Explanation; `print` it to read it (in a REPL or Jupyter it shows by itself).

    >>> import retrograd
    >>> x = retrograd.tensor(2.0)
    >>> print(retrograd.explain(x).summary)
    Its .grad is None because this tensor of shape (), retrograd.float32 does not require grad.
    """
    caller = sys._getframe(1)
    if isinstance(subject, BaseException):
        return _explain_error(subject)
    if isinstance(subject, Tensor):
        name = _name_in_frame(subject, caller)
        if subject.grad_fn is not None:
            return _explain_non_leaf(subject, name)
        if not subject.requires_grad:
            return _explain_no_grad(subject, name)
        return _explain_leaf(subject, output)
    from .nn import Module
    from .optim import Optimizer

    if isinstance(subject, Module):
        return _explain_module(subject, _name_in_frame(subject, caller))
    if isinstance(subject, Optimizer):
        return _explain_optimizer(subject, _name_in_frame(subject, caller))
    raise TypeError(
        "explain() takes a Tensor, an exception, an nn.Module or an optimizer, "
        f"got {type(subject).__name__}"
    )


def _name_in_frame(value, frame) -> str | None:
    """The name the user's code gives `value` in `frame` (`x`, or `grads[0]`), if any."""
    for scope in (frame.f_locals, frame.f_globals):
        for name, bound in scope.items():
            if bound is value and not name.startswith("_"):
                return name
        for name, bound in scope.items():
            if type(bound) in (tuple, list) and not name.startswith("_") and len(bound) < 64:
                for index, item in enumerate(bound):
                    if item is value:
                        return f"{name}[{index}]"
    return None


def _called(name: str | None, fallback: str) -> str:
    return name if name else fallback


# ---------------------------------------------------------------------------
# Tensors


def _describe(tensor: Tensor) -> str:
    return f"tensor of shape {tuple(tensor.shape)}, {tensor.dtype!r}"


# Why a tensor has no graph, once its origin is known (see Note [Tensor origins] in _tensor.py).
_ORIGIN_REASONS = {
    ORIGIN_DETACH: (
        "It was cut from its graph by .detach() (or .detach_()): it shares the data but has no "
        "history, so no gradient flows through it. Fix: use {name} itself where you need gradients, "
        "and detach only what must not be differentiated."
    ),
    ORIGIN_DATA: (
        "It was taken with .data, which gives the same data outside autograd: no history. Fix: use "
        "the tensor itself (and update it under `with retrograd.no_grad():` if that was the point)."
    ),
    ORIGIN_NO_GRAD: (
        "It was computed while grad mode was off (inside `with retrograd.no_grad():`, a function "
        "decorated with @no_grad, or set_grad_enabled(False)): nothing is recorded there. Fix: "
        "compute {name} outside the no_grad() block."
    ),
    ORIGIN_NUMPY: (
        "It was made from a NumPy array (retrograd.tensor(array), from_numpy, as_tensor). If that "
        "array came from a tensor (.numpy(), .detach().numpy(), .tolist()), the round trip through "
        "NumPy lost the graph: NumPy cannot record operations. Fix: keep the computation in "
        "retrograd operations from the tensor that requires grad to {name}."
    ),
    ORIGIN_BACKWARD: (
        "It was computed by a backward pass (it is a gradient: autograd.grad(...) or a .grad) "
        "that ran without create_graph=True, so it holds the number and no record of how it was "
        "computed. Fix: pass create_graph=True to the backward or autograd.grad that made {name} "
        "if you need to differentiate it again."
    ),
}

# The likely causes when nothing is known of a tensor's origin, most likely first.
_LIKELY_CAUSES = [
    "it was created without requires_grad=True (tensors start with requires_grad=False: pass "
    "requires_grad=True or call .requires_grad_() on the leaves you differentiate)",
    "it was computed under no_grad() (or a function decorated with it)",
    "it was cut from the graph by .detach() or .data, or it went through NumPy "
    "(.numpy() and back), which records nothing",
    "it is a derivative computed without create_graph=True",
]


def _explain_no_grad(tensor: Tensor, name: str | None = None) -> Explanation:
    reasons = []
    called = _called(name, "this tensor")
    origin = getattr(tensor, "_origin", None)
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
    elif origin in _ORIGIN_REASONS:
        reasons.append(_ORIGIN_REASONS[origin].format(name=called))
    else:
        reasons.append(
            "It has no grad_fn and requires_grad=False. The likely causes, most likely first: "
            + "; ".join(f"({number}) {cause}" for number, cause in enumerate(_LIKELY_CAUSES, 1))
            + ". None of these record a history, so backward never reaches it."
        )
    reasons.append("Its .grad stays None whatever backward you call.")
    _add_version(tensor, reasons)
    return Explanation(f"Its .grad is None because this {_describe(tensor)} does not require grad.", reasons)


def _explain_non_leaf(tensor: Tensor, name: str | None = None) -> Explanation:
    node = tensor.grad_fn
    summary = (f"This is a non-leaf {_describe(tensor)}, computed by {node.name()} "
               "(it has a grad_fn, so it is not a leaf).")
    reasons = []
    if not tensor._retains_grad:
        reasons.append(
            "Its .grad is None: backward computes the gradient of a non-leaf on the way to the leaves "
            f"but does not keep it, to save memory. Fix: call {_called(name, 'it')}.retain_grad() "
            "before backward, or get the gradient directly with "
            f"retrograd.autograd.grad(output, {_called(name, 'it')})."
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
            f".grad has grad_fn=<{type(grad.grad_fn).__name__}> because it was computed with "
            "create_graph=True: it is differentiable itself (for second derivatives), and a backward "
            "through it adds into this same .grad."
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
# Modules and optimizers: every parameter's gradient at once


def _parameter_findings(named: list[tuple[str, Tensor]]) -> tuple[list[str], dict[str, int]]:
    """What is worth a look in the parameters' gradients (parameters with the same finding are
    listed together), and how many parameters have a gradient, none, or are frozen."""
    import numpy as np

    counts = {"with a gradient": 0, "without a gradient": 0, "frozen": 0}
    found: dict[str, list[str]] = {}
    any_grad = any(parameter._grad is not None for _, parameter in named)
    for name, parameter in named:
        label = f"{name} {tuple(parameter.shape)}"
        if not parameter.requires_grad:
            counts["frozen"] += 1
            found.setdefault("frozen", []).append(label)
            continue
        grad = parameter._grad
        if grad is None:
            counts["without a gradient"] += 1
            if any_grad:
                found.setdefault("unreached", []).append(label)
            continue
        counts["with a gradient"] += 1
        if grad._version:
            found.setdefault("accumulated", []).append(f"{label} {grad._version}x")
        elif grad.grad_fn is not None:
            found.setdefault("differentiable", []).append(label)
        if grad._data.dtype.kind == "f" and not np.isfinite(grad._data).all():
            found.setdefault("not finite", []).append(label)
    lines = []
    if not any_grad and counts["without a gradient"]:
        lines.append("No parameter has a gradient: backward has not run since they were made or last "
                     "reset (optimizer.zero_grad() sets .grad to None), or the loss does not depend on "
                     "any of them.")
    texts = {
        "unreached": "got no gradient although other parameters did: the output of the last backward "
                     "does not depend on {them}. Either {they} are not used in forward, or the path went "
                     "through .detach(), .data, no_grad() or an integer/boolean op; "
                     "retrograd.explain({first}, output=loss) says which.",
        "accumulated": "had .grad changed in place since it was made (times shown): more than one "
                       "backward added into it (gradients accumulate), or it was zeroed in place "
                       "(zero_grad(set_to_none=False)) and filled again. If you did not mean to "
                       "accumulate, call optimizer.zero_grad() before each backward.",
        "differentiable": "have a .grad with a grad_fn (made with create_graph=True): differentiable "
                          "itself, and the next backward adds into it.",
        "not finite": "have NaN or infinity in .grad; retrograd.autograd.detect_anomaly() names the "
                      "operation that made it.",
        "frozen": "frozen (requires_grad=False): no gradient, and the optimizer leaves {them} "
                  "unchanged. If not intended: {first}.requires_grad_(True).",
    }
    for kind, labels in found.items():
        first = labels[0].split(" ")[0]
        several = len(labels) > 1
        text = texts[kind].format(them="them" if several else "it", they="they" if several else "it",
                                  first=first)
        lines.append(f"{', '.join(labels)}: {text}")
    return lines, counts


def _python_path(prefix: str | None, dotted: str) -> str:
    """`model` + `0.weight` -> `model[0].weight` (a name the user can type)."""
    path = prefix or "module"
    for part in dotted.split("."):
        path += f"[{part}]" if part.isdigit() else f".{part}"
    return path


def _summary_of(kind: str, counts: dict[str, int], total: int) -> str:
    parts = ", ".join(f"{count} {what}" for what, count in counts.items() if count)
    return f"{kind} with {total} parameter{'s' if total != 1 else ''}: {parts or 'none'}."


def _explain_module(module, name: str | None) -> Explanation:
    named = [(_python_path(name, dotted), parameter) for dotted, parameter in module.named_parameters()]
    lines, counts = _parameter_findings(named)
    kind = f"{_called(name, 'The module')} ({type(module).__name__})"
    if not lines and named:
        lines.append("Every parameter has a gradient from one backward pass: nothing looks wrong.")
    return Explanation(_summary_of(kind, counts, len(named)), lines)


def _explain_optimizer(optimizer, name: str | None) -> Explanation:
    named = []
    for group_index, group in enumerate(optimizer.param_groups):
        for index, parameter in enumerate(group["params"]):
            named.append((f"{name or 'optimizer'}.param_groups[{group_index}]['params'][{index}]",
                          parameter))
    lines, counts = _parameter_findings(named)
    kind = f"{_called(name, 'The optimizer')} ({type(optimizer).__name__})"
    if counts["without a gradient"]:
        lines.append("step() skips the parameters without a gradient: they do not change.")
    if not lines and named:
        lines.append("Every parameter has a gradient from one backward pass: step() will update them all.")
    return Explanation(_summary_of(kind, counts, len(named)), lines)


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
        return _explain_nothing_to_differentiate(error, message)
    if "Only Tensors of floating point" in message and "can require gradients" in message:
        return Explanation(
            "requires_grad=True was asked of a tensor whose dtype is not floating point.",
            [
                "Gradients are only defined for real numbers: an integer or boolean tensor cannot "
                "require grad. A common cause: retrograd.tensor([1, 2], requires_grad=True) makes an "
                "int64 tensor, because the numbers are written without a decimal point.",
                "Fix: write floats (retrograd.tensor([1., 2.], requires_grad=True)), pass "
                "dtype=retrograd.float32, or convert first (x.float().requires_grad_()).",
            ],
        )
    if "Can't call numpy() on Tensor that requires grad" in message:
        return Explanation(
            ".numpy() was called on a tensor that requires grad.",
            [
                "NumPy cannot record operations, so an array taken from a tensor in a graph would "
                "silently cut the gradient; retrograd, like PyTorch, refuses it.",
                "Fix: to read the values, use t.detach().numpy() (it shares memory with t) or "
                "t.tolist(). To keep gradients, keep computing with retrograd operations instead of "
                "going through NumPy and back.",
            ],
        )
    if _is_device_error(message):
        return Explanation(
            "A device other than the CPU was asked for (.cuda(), .to('cuda') or device='cuda').",
            [
                "retrograd computes on the CPU with NumPy; this build has no GPU backend, so "
                "retrograd.cuda.is_available() is False.",
                "Fix: write device-independent code, as PyTorch scripts usually do: device = "
                "'cuda' if torch.cuda.is_available() else 'cpu', then x.to(device) and "
                "model.to(device).",
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


def _is_device_error(message: str) -> bool:
    lowered = message.lower()
    return ("cuda" in lowered or "device" in lowered) and (
        "computes on the cpu" in lowered or "not compiled with cuda" in lowered
        or "has no attribute 'cuda'" in lowered
    )


def _explain_nothing_to_differentiate(error: BaseException, message: str) -> Explanation:
    """'element i of tensors does not require grad': name the tensor and why it has no graph."""
    tensor, index = _offending_output(error)
    user_frame = _user_frame(error)
    name = _name_in_frame(tensor, user_frame) if tensor is not None and user_frame else None
    called = _called(name, f"element {index}" if index is not None else "the tensor you differentiate")
    summary = (f"backward or autograd.grad was asked to differentiate {called}, which has no graph "
               "(it neither requires grad nor has a grad_fn), so there is nothing to go back through.")
    origin = getattr(tensor, "_origin", None) if tensor is not None else None
    reasons = []
    if tensor is not None and not tensor.dtype.is_floating_point:
        reasons.append(f"It is {tensor.dtype!r}: integer and boolean results (comparisons, argmax, "
                       ".long()) are not differentiable.")
    elif tensor is not None and origin in _ORIGIN_REASONS:
        reasons.append(_ORIGIN_REASONS[origin].format(name=called))
        return Explanation(summary, reasons)
    else:
        reasons.append(
            "The likely causes, most likely first: "
            + "; ".join(f"({number}) {cause}" for number, cause in enumerate(_LIKELY_CAUSES, 1)) + "."
        )
    reasons.append(
        "Fix: make the leaves require grad (retrograd.tensor(..., requires_grad=True)), compute the "
        "output outside no_grad() and without .detach() or NumPy round trips, and for a second "
        "derivative compute the first with create_graph=True (autograd.grad(y, x, "
        "create_graph=True) or y.backward(create_graph=True))."
    )
    return Explanation(summary, reasons)


def _traceback_frames(error: BaseException) -> list:
    frames = []
    trace = error.__traceback__
    while trace is not None:
        frames.append(trace.tb_frame)
        trace = trace.tb_next
    return frames


def _offending_output(error: BaseException):
    """The output tensor autograd refused (read from the refusing frame), and its index."""
    for frame in reversed(_traceback_frames(error)):
        if frame.f_code.co_name == "_output_edges" and "output" in frame.f_locals:
            found = frame.f_locals["output"]
            if isinstance(found, Tensor):
                return found, frame.f_locals.get("index")
    return None, None


_PACKAGE = os.path.dirname(os.path.abspath(__file__))


def _user_frame(error: BaseException):
    """The innermost frame of the traceback outside retrograd: where the user's code called."""
    found = None
    for frame in _traceback_frames(error):
        if not os.path.abspath(frame.f_code.co_filename).startswith(_PACKAGE):
            found = frame
    return found


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
