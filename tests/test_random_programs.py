"""Random programs over the whole op table, differentiated every way and checked.

Each program (see tests/programs.py) chains registered ops on their table samples, with
broadcasting combinations, views written in place, in-place variants, detached values and
values consumed several times. For each program:

- backward() and autograd.grad() give the same first derivatives;
- first derivatives match central finite differences in float64 (gradcheck);
- second derivatives (create_graph) match finite differences of the first (gradgradcheck);
- where PyTorch is installed, the same program there gives the same value, first
  derivatives and Hessian-vector products.

The default run checks a few hundred programs; `pytest -m slow` checks 10,000.

The random autograd programs (tests/autograd_programs.py) stress the engine, views and the
version counter instead: in-place ops and writes through views on tensors that do and do not
require grad, detach() aliases, several roots, NaN/Inf values and incoming gradients, integer
and mixed dtypes, each compared with PyTorch step by step (values, flags, first and second
derivatives, `.grad`, the class of any error). The default run checks 300 of them; the slow
run 50,000 in 50 tests of 1,000 (`pytest -m slow -k autograd_programs_slow`; select chunks
with -k, e.g. "autograd_programs_slow and 7]", to spread them over processes).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import autograd_differences
import autograd_programs
import retrograd
from crosscheck import PYTORCH_GRADIENT_IS_WRONG
from programs import COMBINE, LEAF_SHAPES, OPS, VIEWS, Program, Runner, Step, in_place_allowed
from retrograd.autograd import gradcheck, gradgradcheck
from retrograd.ops import table

try:
    import torch
except ImportError:
    torch = None

def _pytorch_has_in_place(op: str) -> bool:
    """Ours has in-place variants PyTorch lacks (maximum_, minimum_, fmax_, fmin_): not compared."""
    return torch is None or hasattr(torch.Tensor, table[op].inplace)


SOURCES = st.tuples(*[st.integers(0, 40)] * 6)


@st.composite
def steps(draw, seed: int):
    kind = draw(st.sampled_from(["op", "op", "op", "op", "combine", "view_inplace", "detach"]))
    sources = draw(SOURCES)
    if kind == "op":
        op = draw(st.sampled_from(OPS))
        sample = draw(st.integers(0, 15))
        in_place = draw(st.booleans()) and in_place_allowed(op, sample, seed) and _pytorch_has_in_place(op)
        return Step(kind, sources, op=op, sample=sample, in_place=in_place)
    if kind == "combine":
        return Step(kind, sources, variant=draw(st.sampled_from(COMBINE)))
    if kind == "view_inplace":
        return Step(kind, sources, variant=draw(st.sampled_from(VIEWS)))
    return Step(kind, sources)


@st.composite
def programs(draw, max_steps: int = 5):
    seed = draw(st.integers(0, 2**16))
    leaf_shapes = tuple(draw(st.lists(st.sampled_from(LEAF_SHAPES), min_size=1, max_size=2)))
    count = draw(st.integers(1, max_steps))
    return Program(leaf_shapes, tuple(draw(steps(seed)) for _ in range(count)), seed)


def _numpy(value):
    return None if value is None else value.numpy(force=True)  # (a zero tensor too: sgn's gradient)


def _uses_an_op_pytorch_differentiates_wrongly(program: Program) -> bool:
    """Such a program's derivatives are checked by gradcheck only (crosscheck.PYTORCH_GRADIENT_IS_WRONG)."""
    wrong = {name for name, _ in PYTORCH_GRADIENT_IS_WRONG}
    return any(step.op in wrong for step in program.steps)


def _derivatives(lib, program: Program, constants: list):
    """Value, first derivatives and Hessian-vector products of the program in `lib`."""
    leaves = program.leaves(lib)
    out = Runner(program, lib, constants, own_reference=lib is not retrograd)(*leaves)
    firsts = lib.autograd.grad(out, leaves, create_graph=True, allow_unused=True)
    firsts = [lib.zeros_like(leaf) if g is None else g for leaf, g in zip(leaves, firsts)]
    rng = np.random.default_rng(program.seed + 2)
    projection = sum((g * lib.tensor(rng.standard_normal(tuple(g.shape)))).sum() for g in firsts)
    seconds = [None] * len(leaves)
    if projection.requires_grad:
        try:
            seconds = lib.autograd.grad(projection, leaves, allow_unused=True)
        except RuntimeError as error:
            if "not implemented" not in str(error):
                raise
            return [_numpy(out)], [_numpy(g) for g in firsts], None
    seconds = [lib.zeros_like(leaf) if g is None else g for leaf, g in zip(leaves, seconds)]
    return [_numpy(out)], [_numpy(g) for g in firsts], [_numpy(g) for g in seconds]


def check_program(program: Program) -> None:
    """Every check of the module docstring, on one program; raises on the first mismatch."""
    leaves = program.leaves(retrograd)
    reference = Runner(program, retrograd)
    out = reference(*leaves)
    constants = reference.constants

    out.backward()
    from_backward = [leaf.grad for leaf in leaves]
    fresh = program.leaves(retrograd)
    from_grad = retrograd.autograd.grad(Runner(program, retrograd, constants)(*fresh), fresh, allow_unused=True)
    for by_backward, by_grad in zip(from_backward, from_grad):
        assert (by_backward is None) == (by_grad is None)
        if by_grad is not None:
            np.testing.assert_array_equal(by_backward.numpy(), by_grad.numpy(force=True))

    assert gradcheck(Runner(program, retrograd, constants), tuple(program.leaves(retrograd)))
    assert gradgradcheck(Runner(program, retrograd, constants), tuple(program.leaves(retrograd)))

    if torch is not None:
        ours = _derivatives(retrograd, program, constants)
        try:
            theirs = _derivatives(torch, program, constants)
        except NotImplementedError:  # PyTorch lacks this derivative (atanh_); ours passed gradcheck
            return
        trusted = 1 if _uses_an_op_pytorch_differentiates_wrongly(program) else 3  # values only
        for what, mine, expected in list(zip(("value", "first derivative", "second derivative"), ours,
                                             theirs))[:trusted]:
            if expected is None:  # PyTorch has no double backward for this program (hardsigmoid)
                continue
            for got, want in zip(mine, expected):
                np.testing.assert_allclose(got, want, rtol=1e-7, atol=1e-9, err_msg=what)


SIN_PROGRAM = Program(((2, 3),), (Step("op", (0,) * 6, op="sin"), Step("combine", (1, 0), variant="mul")), 7)


def _plant_sin_derivative(monkeypatch, formula) -> None:
    from retrograd.ops.pointwise import SinBackward0

    monkeypatch.setattr(SinBackward0, "_derivative_table", ((formula, ("grad", "self")),))
    monkeypatch.setattr(SinBackward0, "_plans", {})  # plans cache the formulas they call
    table = retrograd.ops._table  # its generated recorder binds the plans: one for the test's plans
    monkeypatch.setitem(table._recorders, SinBackward0, table._recorder(SinBackward0))
    detours = retrograd._thread_counts.entry_detours  # and so do direct entries: sin takes the runner
    monkeypatch.setattr(detours, "count", detours.count + 1)


def test_checker_catches_a_wrong_first_derivative(monkeypatch):
    _plant_sin_derivative(monkeypatch, lambda grad, self: grad * 1.01 * retrograd.ops._math.cos(self))
    with pytest.raises(Exception, match="Jacobian mismatch"):
        check_program(SIN_PROGRAM)


def test_checker_catches_a_wrong_second_derivative(monkeypatch):
    def cos_of_constant(grad, self):
        constant = self.detach() if isinstance(self, retrograd.Tensor) else self
        return grad * retrograd.ops._math.cos(constant)

    _plant_sin_derivative(monkeypatch, cos_of_constant)
    with pytest.raises(Exception, match="Jacobian mismatch"):
        check_program(SIN_PROGRAM)


def test_the_unmodified_sin_program_passes():
    check_program(SIN_PROGRAM)


def test_program_through_an_op_pytorch_differentiates_once_only():
    """Found by the generator: PyTorch has no double backward for hardsigmoid; ours is still
    checked against finite differences, and the PyTorch comparison stops at first order."""
    check_program(Program(((),), (Step("op", (0,) * 6, op="hardsigmoid"),), 0))


def test_program_through_an_in_place_op_pytorch_cannot_differentiate():
    """Found by the generator: PyTorch has no derivative for atanh_ (NotImplementedError); ours
    is checked against finite differences alone."""
    check_program(Program(((),), (Step("op", (0,) * 6, op="atanh", in_place=True),), 0))


def test_program_writing_through_a_view_of_eigenvectors():
    """Found by the generator: PyTorch's eigenvectors are column-major, so viewing a clone of
    them flat fails there; the program makes its base contiguous before viewing it."""
    check_program(Program(((),), (Step("op", (0,) * 6, op="linalg.eigh"), Step("view_inplace", (32, 0, 0, 0, 0, 0), variant="flat")), 0))


def test_program_through_a_loss_with_plus_minus_one_labels():
    """Found by the generator: hinge_embedding_loss compares its float labels with 1 and -1, so
    labels must stay constants (a perturbed label is neither): the program does not couple them."""
    check_program(Program(((2, 1), (2, 1)), (Step("op", (1, 33, 21, 18, 22, 12), op="hinge_embedding_loss"),), 27773))


def test_program_with_prod_over_exact_zeros():
    """Found by the generator: prod's sample has exact zeros; with our rounding of det as its
    reference, PyTorch saw 1e-15 instead of 0 there and its ill-conditioned prod second derivative
    was 0.35% off (ours matched a Richardson-extrapolated finite difference to 1e-11). The PyTorch
    run now takes its own values as references."""
    check_program(Program(((),), (Step("op", (0,) * 6, op="linalg.det"), Step("op", (1,) + (0,) * 5, op="prod", sample=5)), 0))


def test_program_through_a_deliberate_tie():
    """Found by the generator: norm(p=-inf)'s sample ties two values; moved unequally by the
    program, the gradient jumps across the tie and gradgradcheck saw a 1e5 slope. Tied samples
    stay constant in programs (the op table's own tests cover the tie convention)."""
    steps = (
        Step("op", (0,) * 6, op="__getitem__"),
        Step("detach", (0,) * 6),
        Step("view_inplace", (2, 0, 0, 0, 0, 0), variant="flat"),
        Step("op", (0,) * 6, op="__getitem__"),
        Step("op", (32, 0, 0, 0, 0, 0), op="norm", sample=6),
    )
    check_program(Program(((), ()), steps, 264))


@settings(max_examples=300, deadline=None)
@given(program=programs())
def test_random_programs(program):
    try:
        check_program(program)
    except Exception as error:
        raise AssertionError(program.describe()) from error


@pytest.mark.slow
@settings(max_examples=10_000, deadline=None)
@given(program=programs(max_steps=8))
def test_random_programs_slow(program):
    try:
        check_program(program)
    except Exception as error:
        raise AssertionError(program.describe()) from error


# ---------------------------------------------------------------------------
# Random autograd programs, compared with PyTorch (tests/autograd_programs.py)

needs_torch = pytest.mark.skipif(torch is None, reason="could not import 'torch'")

AUTOGRAD_CHUNK = 1_000
AUTOGRAD_CHUNKS = 50  # the slow run: 50,000 programs

# Programs of the slow run that still disagree with PyTorch (reproducers below, marked xfail).
# The slow run checks that exactly these disagree: when one is fixed, its seed is to be removed.
KNOWN_DISAGREEMENTS: dict[int, str] = {}


def _disagreements(seeds) -> dict[int, str]:
    found = {}
    for seed in seeds:
        message = autograd_programs.check(seed, retrograd, torch)
        if message is not None:
            found[seed] = message
    return found


def _assert_only_known(found: dict[int, str], seeds) -> None:
    expected = {seed for seed in KNOWN_DISAGREEMENTS if seed in seeds}
    new = {seed: message for seed, message in found.items() if seed not in expected}
    assert not new, "\n\n".join(new.values())
    fixed = sorted(expected - set(found))
    assert not fixed, f"these programs agree with PyTorch now; remove them from KNOWN_DISAGREEMENTS: {fixed}"


@needs_torch
def test_random_autograd_programs():
    seeds = range(300)
    _assert_only_known(_disagreements(seeds), seeds)


@pytest.mark.slow
@needs_torch
@pytest.mark.parametrize("chunk", range(AUTOGRAD_CHUNKS))
def test_random_autograd_programs_slow(chunk):
    seeds = range(chunk * AUTOGRAD_CHUNK, (chunk + 1) * AUTOGRAD_CHUNK)
    _assert_only_known(_disagreements(seeds), seeds)


@needs_torch
@pytest.mark.parametrize("plant", [
    "views_of_plain_bases", "version_counter", "roots_reaching_roots", "retained_grads", "root_dtype"])
def test_the_autograd_programs_find_the_engine_defects_of_issue_12(monkeypatch, plant):
    """Each defect of issue 12's engine section, planted again, is found within 300 programs."""
    from retrograd.autograd import engine
    from retrograd.autograd import graph as graph_module
    from retrograd.ops import _formula, _inplace

    if plant == "views_of_plain_bases":  # views of a base without grad miss its later history
        real_register = _inplace.register_view

        def register_view(view, base):
            if view.grad_fn is not None:  # only views recorded in the graph, as before the fix
                real_register(view, base)

        monkeypatch.setattr(_inplace, "register_view", register_view)
    elif plant == "version_counter":  # a saved value changed in place goes unnoticed
        monkeypatch.setattr(graph_module, "_check_version", lambda *args: None)
        monkeypatch.setattr(_formula, "_check_version", lambda *args: None)
    elif plant == "roots_reaching_roots":  # a root that another root reaches runs too early
        real_count = engine._count_dependencies

        def count_dependencies(roots):
            counts = real_count(roots)
            for root in roots:
                counts.pop(root, None)
            return counts

        monkeypatch.setattr(engine, "_count_dependencies", count_dependencies)
    elif plant == "retained_grads":  # retained grads accumulated as a leaf's
        monkeypatch.setattr(engine, "_store_retained_grad", engine._store_grad)
    else:  # an int64 incoming gradient kept as it is
        from retrograd.autograd import _passes

        real_roots = _passes._root_gradients

        def uncast_roots(outputs, grads):
            made = real_roots(outputs, grads)
            return [made_grad if given is None else given
                    for made_grad, given in zip(made, grads or (None,) * len(made))]

        monkeypatch.setattr(_passes, "_root_gradients", uncast_roots)
    assert _disagreements(range(300))


# Program 49688 of the slow run (reduced): x + x divided in place by x, in float32, where
# x[0] = -0.003; its second derivative sums terms of some 4 / x**2 = 4e5 that cancel.
_CANCELLING_FLOAT32_PROGRAM = autograd_programs.Program(
    49688,
    [autograd_programs.Leaf((2, 3), "float32", True, (-0.003, 1.485, 0.543, 0.939, -0.647, -0.566))],
    [autograd_programs.Step("op", "add", (0, 0)), autograd_programs.Step("inplace", "div_", (1, 0))],
    autograd_programs.Backward((1,), (("float", (-0.226, 0.877, 0.784, -1.485, 0.12, -1.085)),), (0,),
                               ((0.576, 1.411, 0.684, 1.245, 1.047, 0.502),), (0,)),
)


@needs_torch
def test_float32_rounding_noise_of_a_program_is_judged_in_float64():
    """Found by the slow run: second derivatives through x / x cancel terms of 1e4 to 1e7, so
    float32 leaves both libraries with different rounding noise there; the same program in
    float64 agrees (Note [float32 rounding in the programs], autograd_programs.py)."""
    program = _CANCELLING_FLOAT32_PROGRAM
    mine, theirs = autograd_programs.run(retrograd, program), autograd_programs.run(torch, program)
    assert autograd_programs.compare(mine, theirs, loose=True) is not None  # noise beyond float32's tolerance
    assert autograd_programs.judge(program, retrograd, torch) is None


_ABS_OF_AN_INFINITE_VALUE_PROGRAM = autograd_programs.Program(
    12838,
    [autograd_programs.Leaf((3, 3), "float32", True, (-1.71, -1.875, 0.998, 1.262, 1.637, -0.173, -0.427, 1.83, 0.254)),
     autograd_programs.Leaf((3, 3), "int64", False, (-3.0, 3.0, 0.0, -1.0, -3.0, -3.0, -3.0, 2.0, -3.0)),
     autograd_programs.Leaf((3,), "float64", True, (0.881, 0.0, 0.744))],
    [autograd_programs.Step("inplace", "mul_", (1,), scalar=3), autograd_programs.Step("op", "div", (0, 2)),
     autograd_programs.Step("view", "transpose", (3,), index=2), autograd_programs.Step("op", "clamp", (3,)),
     autograd_programs.Step("inplace", "abs_", (3,)), autograd_programs.Step("view", "unsqueeze", (5,)),
     autograd_programs.Step("op", "sub", (3, 2)), autograd_programs.Step("view", "transpose", (5,), index=1),
     autograd_programs.Step("op", "where", (8, 4))],
    autograd_programs.Backward(
        (2, 3, 4),
        (("float", (-0.603, -0.914, 0.223)), ("int", (-2.0, -1.0, 2.0, -1.0, 1.0, 0.0, 1.0, -2.0, -1.0)),
         ("float", (1.486, -1.249, -1.134, -1.358, 0.052, 1.265, 0.8, -1.114, -1.365))),
        (0, 2, 9),
        ((0.746, 0.971, 0.818, 1.332, 1.054, 0.837, 0.836, 1.158, 0.925), (0.683, 1.186, 0.602),
         (1.3, 0.723, 0.537, 0.744, 0.643, 0.795, 0.521, 1.291, 0.619)),
        (0, 1)),
)


@needs_torch
def test_the_second_derivative_through_abs_of_an_infinite_value_agrees():
    """Found by the slow run (program 12838 of the generator before issue 12's last changes):
    abs_ of x / 0, differentiated twice, is +-inf in PyTorch, whose derivative of sgn is a zero
    tensor that NaN and Inf do not spread to (Note [Zero gradients that stay zero]); NaN here."""
    assert autograd_programs.judge(_ABS_OF_AN_INFINITE_VALUE_PROGRAM, retrograd, torch) is None


def test_a_zero_gradient_of_sgn_in_grad_is_ordinary_zeros_that_accumulate():
    """PyTorch keeps its immutable zero tensor in `.grad`, so a second backward into it raises
    ("ZeroTensors are immutable"); retrograd stores plain zeros, which accumulate (README)."""
    x = retrograd.tensor([2.0, -1.0], requires_grad=True)
    (x * float("nan")).sgn().sum().backward()
    (x * 2).sum().backward()
    assert x.grad.tolist() == [2.0, 2.0]


@needs_torch
def test_a_float_formula_one_percent_off_is_found_despite_the_float64_judgement(monkeypatch):
    """The float64 re-check accepts rounding only: a derivative 1% off differs in float64 too."""
    _plant_sin_derivative(monkeypatch, lambda grad, self: grad * 1.01 * retrograd.ops._math.cos(self))
    found = _disagreements(range(300))
    assert found and all("sin" in message for message in found.values())


@pytest.mark.parametrize("case", autograd_differences.FIXED_CASES, ids=lambda case: case.__name__)
def test_a_difference_the_programs_found_is_fixed(case):
    case(retrograd)


@needs_torch
@pytest.mark.parametrize("case", autograd_differences.FIXED_CASES,
                         ids=lambda case: case.__name__)
def test_the_reproducer_of_a_difference_holds_in_pytorch(case):
    case(torch)
