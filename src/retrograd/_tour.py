"""The tour: every example of the seed article, run live, with its output and its graph.

`python -m retrograd tour` prints, for each step, a short explanation, the article's code
(run with `import retrograd as torch`), the output it really produced next to the output
the article shows, and a drawing of the graph the step built (retrograd.viz); at the end it
writes pictures of the seed's graphs and a backward-pass explorer page.
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import textwrap
import traceback
import warnings

__all__ = ["STEPS", "Step", "run_step", "run_tour"]

WIDTH = 80  # the tour fits a terminal of 80 columns


@dataclasses.dataclass(frozen=True)
class Step:
    """One example of the article: what it shows, its code, and the output the article prints."""

    title: str
    explanation: str
    code: str
    expected: str
    graph_of: tuple[str, ...] = ()
    from_article: bool = True  # False for the tour's own examples, checked against PyTorch


STEPS = [
    Step(
        "Two ways to make a leaf that requires grad",
        "A tensor you create is a leaf. It requires grad only if you ask, either with "
        "requires_grad_() or with requires_grad=True.",
        """
        x = torch.tensor(1.).requires_grad_()
        print(x, x.is_leaf)
        x = torch.tensor(1., requires_grad=True)
        print(x, x.is_leaf)
        """,
        "tensor(1., requires_grad=True) True\ntensor(1., requires_grad=True) True",
    ),
    Step(
        "y = (x+1)(x+2) with backward()",
        "The graph is built while the code runs. backward() walks it from y down to the leaf "
        "x and fills x.grad with dy/dx = (x+2) + (x+1) = 7 at x = 2.",
        """
        x = torch.tensor(2., requires_grad=True)
        a = torch.add(x, 1)
        b = torch.add(x, 2)
        y = torch.mul(a, b)
        y.backward()
        print(x.grad)
        """,
        "tensor(7.)",
        ("y",),
    ),
    Step(
        "The four autograd attributes",
        "Every tensor has four autograd attributes. requires_grad: whether operations on it "
        "are recorded (results computed from a tensor that requires grad require grad too). "
        "grad_fn: the recorded operation that produced it (None for a leaf), the node backward "
        "runs; a is AddBackward0, y is MulBackward0. is_leaf: True for tensors nothing "
        "recorded produced; only x here. grad: after backward only leaves keep their gradient "
        "(reading a non-leaf's .grad gives None and a warning that points to retain_grad()).",
        """
        print("requires_grad: ", x.requires_grad, a.requires_grad, b.requires_grad, y.requires_grad)
        print("is_leaf: ", x.is_leaf, a.is_leaf, b.is_leaf, y.is_leaf)
        print("grad: ", x.grad, a.grad, b.grad, y.grad)
        """,
        "requires_grad:  True True True True\nis_leaf:  True False False False\n"
        "grad:  tensor(7.) None None None",
    ),
    Step(
        "grad_fn, and keeping a non-leaf's gradient with retain_grad()",
        "grad_fn names the operation that made each tensor, as PyTorch names its backward "
        "node. A non-leaf's gradient is computed on the way to the leaves and then dropped to "
        "save memory; retain_grad() before backward keeps it: dy/da = b = 4, while b, which "
        "did not ask, still has none.",
        """
        print("grad_fn: ", x.grad_fn, a.grad_fn.name(), b.grad_fn.name(), y.grad_fn.name())
        x = torch.tensor(2., requires_grad=True)
        a = torch.add(x, 1)
        b = torch.add(x, 2)
        a.retain_grad()
        y = torch.mul(a, b)
        y.backward()
        print(a.grad, a.retains_grad, b.grad, b.retains_grad)
        """,
        "grad_fn:  None AddBackward0 AddBackward0 MulBackward0\ntensor(4.) True None False",
        from_article=False,
    ),
    Step(
        "Define-by-run: the graph follows your if and for",
        "The graph is recorded while Python runs, so it is whatever the code did: here the "
        "loop multiplied three times and then, once y reached 10, took the other branch and "
        "added 1. The graph holds exactly those four operations, and backward "
        "differentiates the path taken: y = x^4 + 1, dy/dx = 4x^3 = 32.",
        """
        x = torch.tensor(2., requires_grad=True)
        y = x
        for step in range(4):
            if y < 10:
                y = y * x
            else:
                y = y + 1
        print(y)
        y.backward()
        print(x.grad)
        """,
        "tensor(17., grad_fn=<AddBackward0>)\ntensor(32.)",
        ("y",),
        from_article=False,
    ),
    Step(
        "The same gradient with autograd.grad()",
        "autograd.grad returns the gradients as a tuple and fills no .grad.",
        """
        x = torch.tensor(2., requires_grad=True)
        a = torch.add(x, 1)
        b = torch.add(x, 2)
        y = torch.mul(a, b)
        grad = torch.autograd.grad(outputs=y, inputs=x)
        print(grad[0])
        """,
        "tensor(7.)",
    ),
    Step(
        "z = x*x*y with backward()",
        "dz/dx = 2xy = 12 and dz/dy = x*x = 4 at x = 2, y = 3.",
        """
        x = torch.tensor(2., requires_grad=True)
        y = torch.tensor(3., requires_grad=True)
        z = x * x * y
        z.backward()
        print(x.grad, y.grad)
        """,
        "tensor(12.) tensor(4.)",
        ("z",),
    ),
    Step(
        "z = x*x*y with autograd.grad()",
        "Asking for one input's gradient computes only what that input needs.",
        """
        x = torch.tensor(2.).requires_grad_()
        y = torch.tensor(3.).requires_grad_()
        z = x * x * y
        grad_x = torch.autograd.grad(outputs=z, inputs=x)
        print(grad_x[0])
        """,
        "tensor(12.)",
    ),
    Step(
        "Keeping the graph for a second pass: retain_graph=True",
        "A pass frees the values the graph saved for backward. retain_graph=True keeps them, "
        "so a second pass over the same graph can run.",
        """
        x = torch.tensor(2.).requires_grad_()
        y = torch.tensor(3.).requires_grad_()
        z = x * x * y
        grad_x = torch.autograd.grad(outputs=z, inputs=x, retain_graph=True)
        grad_y = torch.autograd.grad(outputs=z, inputs=y)
        print(grad_x[0], grad_y[0])
        """,
        "tensor(12.) tensor(4.)",
    ),
    Step(
        "A derivative computed without create_graph cannot be differentiated",
        "grad_x holds the number 12 but no record of how it was computed, so it has no "
        "grad_fn and cannot be differentiated again.",
        """
        x = torch.tensor(2.).requires_grad_()
        y = torch.tensor(3.).requires_grad_()
        z = x * x * y
        grad_x = torch.autograd.grad(outputs=z, inputs=x, retain_graph=True)
        grad_xx = torch.autograd.grad(outputs=grad_x, inputs=x)
        print(grad_xx[0])
        """,
        "RuntimeError: element 0 of tensors does not require grad and does not have a grad_fn",
    ),
    Step(
        "Second derivative: autograd.grad() + autograd.grad()",
        "With create_graph=True the backward pass is itself recorded: dz/dx = 2xy becomes a "
        "graph, and differentiating it again gives d2z/dx2 = 2y = 6.",
        """
        x = torch.tensor(2.).requires_grad_()
        y = torch.tensor(3.).requires_grad_()
        z = x * x * y
        grad_x = torch.autograd.grad(outputs=z, inputs=x, create_graph=True)
        grad_xx = torch.autograd.grad(outputs=grad_x, inputs=x)
        print(grad_xx[0])
        """,
        "tensor(6.)",
        ("grad_x[0]",),
    ),
    Step(
        "Second derivative: autograd.grad() + backward()",
        "The recorded first derivative can also start a backward() pass.",
        """
        x = torch.tensor(2.).requires_grad_()
        y = torch.tensor(3.).requires_grad_()
        z = x * x * y
        grad = torch.autograd.grad(outputs=z, inputs=x, create_graph=True)
        grad[0].backward()
        print(x.grad)
        """,
        "tensor(6.)",
    ),
    Step(
        "Second derivative: backward(create_graph=True) + autograd.grad()",
        "backward(create_graph=True) leaves a differentiable x.grad (retrograd warns, as "
        "PyTorch does, that this makes a reference cycle between x and x.grad).",
        """
        x = torch.tensor(2.).requires_grad_()
        y = torch.tensor(3.).requires_grad_()
        z = x * x * y
        z.backward(create_graph=True)
        grad_xx = torch.autograd.grad(outputs=x.grad, inputs=x)
        print(grad_xx[0])
        """,
        "tensor(6.)",
    ),
    Step(
        "Two backward() calls accumulate",
        "The second backward adds 6 to the 12 already in x.grad: gradients accumulate. "
        "x.grad shows grad_fn=<CopyBackwards>: with create_graph=True backward recorded the "
        "sum 12 + 6 and stored a copy of it in x.grad, so that it stays differentiable; "
        "CopyBackwards is the node of that copy, which passes gradients straight through.",
        """
        x = torch.tensor(2.).requires_grad_()
        y = torch.tensor(3.).requires_grad_()
        z = x * x * y
        z.backward(create_graph=True)  # x.grad = 12
        x.grad.backward()
        print(x.grad)
        """,
        "tensor(18., grad_fn=<CopyBackwards>)",
        ("x.grad",),
    ),
    Step(
        "Zero the gradient before the second backward()",
        "x.grad.data.zero_() clears the first derivative in place (outside the graph), so the "
        "second pass leaves just the second derivative, 6.",
        """
        x = torch.tensor(2.).requires_grad_()
        y = torch.tensor(3.).requires_grad_()
        z = x * x * y
        z.backward(create_graph=True)
        x.grad.data.zero_()
        x.grad.backward()
        print(x.grad)
        """,
        "tensor(6., grad_fn=<CopyBackwards>)",
    ),
    Step(
        "A non-scalar output needs an explicit gradient",
        "backward() can only invent the starting gradient (1) for a single number.",
        """
        x = torch.tensor([1., 2.]).requires_grad_()
        y = x + 1
        y.backward()
        print(x.grad)
        """,
        "RuntimeError: grad can be implicitly created only for scalar outputs",
    ),
    Step(
        "Reduce to a scalar first",
        "Summing makes a scalar; d(sum x*x)/dx = 2x = [2, 4].",
        """
        x = torch.tensor([1., 2.]).requires_grad_()
        y = x * x
        y.sum().backward()
        print(x.grad)
        """,
        "tensor([2., 4.])",
        ("y",),
    ),
]


def run_step(step: Step, namespace: dict) -> str:
    """Run a step's code in `namespace`; its printed output, or its error as the article shows it."""
    output = io.StringIO()
    with contextlib.redirect_stdout(output), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            exec(textwrap.dedent(step.code), namespace)
        except Exception as error:  # the article shows the error's last line
            print("".join(traceback.format_exception_only(error)).strip())
    return output.getvalue().rstrip("\n")


def _named_tensors(namespace: dict) -> dict:
    """The step's variables that hold tensors, so the drawing can label its boxes by name."""
    from ._tensor import Tensor

    return {name: value for name, value in namespace.items() if isinstance(value, Tensor)}


def run_tour(out=None, only: int | None = None, pictures: str | None = None) -> bool:
    """Print the tour; True if every step printed what the article shows.

    With `pictures`, also write the seed's graph pictures and an explorer page there.
    """
    import retrograd
    from retrograd import viz

    write = (out or _stdout()).write
    namespace: dict = {"torch": retrograd}
    all_match = True
    write(textwrap.fill("retrograd tour: the examples of the seed article, run with "
                        "`import retrograd as torch`", WIDTH) + "\n")
    for number, step in enumerate(STEPS, start=1):
        if only is not None and number != only:
            if number < only:
                run_step(step, namespace)  # a step may use the variables of the steps before it
            continue
        actual = run_step(step, namespace)
        matches = actual == step.expected
        all_match &= matches
        write(f"\n{'=' * WIDTH}\n{number}. {step.title}\n{'=' * WIDTH}\n")
        write(textwrap.fill(step.explanation, WIDTH) + "\n\n")
        for line in textwrap.dedent(step.code).strip().splitlines():
            write(_prompt_lines(line))
        write("\noutput:\n")
        for line in actual.splitlines():
            write(textwrap.fill(line, WIDTH, initial_indent="    ", subsequent_indent="      ") + "\n")
        reference = "the article" if step.from_article else "PyTorch"
        verdict = f"matches {reference}" if matches else f"DIFFERS from {reference}:\n    {step.expected}"
        write(f"[{'ok' if matches else 'MISMATCH'}] {verdict}\n")
        for expression in step.graph_of:
            write(f"\nthe graph of {expression}:\n")
            drawing = viz.draw(eval(expression, namespace), params=_named_tensors(namespace))
            write(textwrap.indent(drawing.text(width=WIDTH - 4), "    ") + "\n")
    verdict = "all steps match" if only is None else f"step {only} matches"
    if not all_match:
        verdict = "some steps differ"
    write(f"\n{verdict}.\n")
    if pictures is not None and only is None:
        written = viz.write_seed_pictures(pictures)
        write(f"\nPictures of the seed's graphs and a backward-pass explorer page are in {pictures}/:\n")
        for path in written:
            write(f"    {path}\n")
    return all_match


def _prompt_lines(line: str) -> str:
    """A line of code after `>>> `; a long one is broken after commas and continued after
    `... `, aligned under its opening parenthesis, to fit WIDTH columns."""
    prefix = "    ... " if line[:1].isspace() else "    >>> "
    indent, rest, pieces = "", line, []
    while len(prefix) + len(indent) + len(rest) > WIDTH:
        cut = rest.rfind(", ", 0, WIDTH - len(prefix) - len(indent))
        if cut <= 0:
            break
        pieces.append(prefix + indent + rest[: cut + 1])
        if not indent:
            opening = line.find("(")
            indent = " " * (opening + 1) if 0 <= opening < 30 else "    "
        rest = rest[cut + 2 :]
        prefix = "    ... "
    pieces.append(prefix + indent + rest)
    return "\n".join(pieces) + "\n"


def _stdout():
    import sys

    return sys.stdout
