"""Mutation testing of the modules where a bug is a wrong gradient (docs/mutation.md).

    python3 -m tools.mutation list            # the modules, their source and their tests
    python3 -m tools.mutation MODULE          # mutate one module, run its tests, print the score
    python3 -m tools.mutation MODULE --keep   # reuse the last run's results (mutmut's cache)
    python3 -m tools.mutation MODULE --show   # also print the diff of each unexplained survivor
    python3 -m tools.mutation MODULE --survivors  # after writing tests: rerun only the last survivors
    python3 -m tools.mutation MODULE --report # the last run's score, without running anything
    python3 -m tools.mutation scores          # the last score of every module, as a Markdown table

The tool is mutmut 3 (`pip install -e '.[mutation]'`), configured in pyproject.toml's
[tool.mutmut]. mutmut mutates one small thing at a time in a copy of the source (a `<` made
`<=`, a number made another, an argument dropped, a call's result replaced by None, ...) and
runs the tests that reach the mutated function; a mutant that no test notices *survived*, and
names a behaviour the suite does not pin down.

Each module is paired here with the few fast test files that exercise it (the whole suite takes
minutes; a mutant run goes through each mutant's tests once). The run happens in a scratch copy
of the tree under `.mutation/MODULE/` (ignored by git), so the working tree is never mutated and
two modules can be run one after the other without mixing their results. It runs under `nice`.

A survivor that changes no behaviour (an *equivalent* mutant) is listed in EQUIVALENT below with
the reason; the score counts it as a survivor all the same (killed / total), and the report
says how many of the survivors are explained.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time
import tomllib
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCRATCH = ROOT / ".mutation"


@dataclass(frozen=True)
class Target:
    """One module under mutation: its source files, which functions, and its tests."""

    sources: tuple[str, ...]
    tests: tuple[str, ...]
    # mutmut's mutant names are `retrograd.pkg.module.x_function__mutmut_N` (a method is
    # `xǁClassǁmethod__mutmut_N`); these globs keep a part of a large module.
    functions: tuple[str, ...] = ()
    # Tests of those files left out (pytest node ids): the slow ones (a 10^5-op chain), which
    # each mutant of a function they reach would rerun, for nothing the fast ones miss.
    deselect: tuple[str, ...] = ()


# The engine's scale tests (seconds each, much more under mutmut's trampolines): what they check
# (no recursion, freeing a deep graph, a wide fan-out) is checked at small sizes by the others.
_SLOW_ENGINE_TESTS = (
    "tests/test_engine.py::test_a_100000_op_chain_backpropagates_without_recursion",
    "tests/test_engine.py::test_dropping_a_deep_graph_without_backward_is_safe",
    "tests/test_engine.py::test_a_10000_way_fan_out_sums_every_contribution",
    "tests/test_engine.py::test_no_recursion_limit_is_touched",
    "tests/test_autograd_inplace.py::test_a_second_derivative_through_a_write_through_a_view_runs_each_node_once",
)

_FORWARD_AD_BENCHMARK = "tests/test_forward_ad.py::test_forward_mode_benchmark_checks_both_ways_before_timing"


TARGETS: dict[str, Target] = {
    "optim": Target(
        sources=(
            "src/retrograd/optim/optimizer.py",
            "src/retrograd/optim/sgd.py",
            "src/retrograd/optim/adam.py",
            "src/retrograd/optim/rmsprop.py",
            "src/retrograd/optim/more.py",
        ),
        tests=("tests/test_optim.py", "tests/test_mutation_optim.py"),
    ),
    "lbfgs": Target(
        sources=("src/retrograd/optim/lbfgs.py",),
        tests=("tests/test_optim.py", "tests/test_mutation_lbfgs.py"),
    ),
    "state_dict": Target(
        sources=("src/retrograd/nn/modules/module.py",),
        tests=("tests/test_nn_module.py", "tests/test_mutation_state_dict.py"),
        functions=(
            "retrograd.nn.modules.module.*state_dict*",
            "retrograd.nn.modules.module.*_local_state*",
            "retrograd.nn.modules.module.*_copy_into*",
            "retrograd.nn.modules.module.*_IncompatibleKeys*",
        ),
    ),
    "printing": Target(
        sources=("src/retrograd/_printing.py",),
        tests=("tests/test_printing.py", "tests/test_mutation_printing.py"),
    ),
    "serialization": Target(
        sources=("src/retrograd/serialization.py",),
        tests=("tests/test_serialization.py", "tests/test_mutation_serialization.py"),
    ),
    "grad_mode": Target(
        sources=("src/retrograd/autograd/grad_mode.py",),
        tests=("tests/test_autograd_grad_mode.py", "tests/test_mutation_grad_mode.py"),
    ),
    "function": Target(
        sources=("src/retrograd/autograd/function.py",),
        tests=("tests/test_autograd_function.py", "tests/test_forward_ad.py",
               "tests/test_mutation_function.py"),
        deselect=(_FORWARD_AD_BENCHMARK,),
    ),
    "gradcheck": Target(
        sources=("src/retrograd/autograd/gradcheck.py",),
        tests=("tests/test_autograd_gradcheck.py", "tests/test_forward_ad.py",
               "tests/test_mutation_gradcheck.py"),
        deselect=(_FORWARD_AD_BENCHMARK,),
    ),
    # The four below reach almost every test of the suite; each is paired with the files that
    # exercise it directly (its own test_mutation_*.py first: it imports PyTorch at collection,
    # so mutmut's forked workers inherit it instead of importing it once per mutant).
    "graph": Target(
        sources=("src/retrograd/autograd/graph.py",),
        tests=(
            "tests/test_mutation_graph.py",
            "tests/test_autograd_hooks.py",
            "tests/test_saved_values.py",
            "tests/test_autograd_inplace.py",
            "tests/test_engine.py",
        ),
        deselect=_SLOW_ENGINE_TESTS,
    ),
    "engine": Target(
        sources=("src/retrograd/autograd/engine.py",),
        tests=(
            "tests/test_mutation_engine.py",
            "tests/test_engine.py",
            "tests/test_autograd_hooks.py",
            "tests/test_saved_values.py",
            "tests/test_generated_plans.py",  # declared nodes run through their plans
            "tests/test_viz_explorer.py",  # the pass's observer (Note [Observing the pass])
        ),
        deselect=(
            *_SLOW_ENGINE_TESTS,
            # seconds each, in a browser page: the recording they show is checked by the others
            "tests/test_viz_explorer.py::test_browser_buttons_keys_and_details",
            "tests/test_viz_explorer.py::test_browser_steps_through_the_seed_backward_pass",
        ),
    ),
    "table": Target(
        sources=("src/retrograd/ops/_table.py",),
        tests=(
            "tests/test_mutation_table.py",
            "tests/test_mutation_graph.py",  # the first graph of a process (the shared edge numbers)
            "tests/test_saved_values.py",
            "tests/test_autograd_inplace.py",
            "tests/test_engine.py",
        ),
        deselect=_SLOW_ENGINE_TESTS,
    ),
    "formula": Target(
        sources=("src/retrograd/ops/_formula.py",),
        tests=(
            "tests/test_mutation_formula.py",
            "tests/test_mutation_graph.py",  # saved records (Note [Saved records] moved to graph.py)
            "tests/test_saved_values.py",
            "tests/test_generated_plans.py",  # Note [Generated saving and backward]
            "tests/test_shape_index_formulas.py",
            "tests/test_engine.py",
        ),
        deselect=(
            *_SLOW_ENGINE_TESTS,
            # 8 s: every index pattern of __getitem__ with NaN and Inf against PyTorch
            "tests/test_shape_index_formulas.py::test_nan_and_inf_in_the_incoming_gradient_go_where_pytorch_sends_them[__getitem__-0]",
        ),
    ),
}

# Survivors judged equivalent (no behaviour changes), by mutant name without "retrograd.", with the
# reason. mutmut
# numbers a function's mutants in source order, so an edit of that function renumbers them:
# after such an edit, check the list against `--show`.
_ROUNDING = "the same update written another way: the results differ by rounding at most"
_OVERWRITTEN = "the 'params' entry it lets through is replaced on the next line"
_STACKLEVEL = ("changes only the caller line the warning is attributed to (PyTorch's own points into its "
               "internals, torch/_compile.py); message and category are unchanged")
_HOOK_DICTS = ("Module.__init__ creates every hook dict, so the default of get() is never read")
# gradcheck's survivors judged equivalent: (reason, mutant names without "retrograd.autograd.gradcheck.").
_GRADCHECK_EQUIVALENT = [
    ("NumPy reads the size -2 as -1 (one unknown dimension)", (
        "x__analytical_jacobians__mutmut_22", "x__check_batched_forward__mutmut_52",
        "x__check_fast__mutmut_64", "x__check_fast__mutmut_67", "x__flat_outputs__mutmut_7",
        "x__forward_jacobians__mutmut_11", "x__forward_products__mutmut_34")),
    ("what it prints (Jacobians, projections) is float64 already",
     ("x__as_tensor_text__mutmut_4", "x__as_tensor_text__mutmut_6")),
    ("astype(None) is astype(float64)", ("x__flat_outputs__mutmut_5", "x__forward_products__mutmut_32")),
    ("inputs that require grad are floating point, and float64 to float32 or float16 is a 'same_kind' "
     "cast, which copyto allows by default",
     ("x__central_difference__mutmut_7", "x__central_difference__mutmut_22")),
    ("another draw of a batched check's random output gradients or tangents (seeded otherwise, or not "
     "at all): the same products are compared, and the message shows no numbers", (
        "x__check_batched__mutmut_2", "x__check_batched__mutmut_3",
        "x__check_batched_forward__mutmut_2", "x__check_batched_forward__mutmut_3")),
    ("a third tangent is drawn, but only the first two rows are compared",
     ("x__check_batched_forward__mutmut_8",)),
    ("another fixed seed: other random directions (or grad_outputs), as good a check; only the projected "
     "values a failure prints change",
     ("x__check_fast__mutmut_3", "x__check_forward_fast__mutmut_3", "x_gradgradcheck__mutmut_43")),
    ("directions twice as long: both sides of every comparison and its tolerance scale alike; only the "
     "projected values a failure prints change",
     ("x__check_fast__mutmut_12", "x__check_fast__mutmut_21", "x__check_forward_fast__mutmut_12")),
    ("the grad dtype check cannot fail: the engine casts every gradient to its input's dtype, as "
     "PyTorch's does", (
        "x__check_grad_dtypes__mutmut_19", "x__check_grad_dtypes__mutmut_20",
        "x__check_grad_dtypes__mutmut_21", "x_gradcheck__mutmut_7", "x_gradcheck__mutmut_103",
        "x_gradcheck__mutmut_104", "x_gradgradcheck__mutmut_8", "x_gradgradcheck__mutmut_87",
        "x_gradgradcheck__mutmut_100")),
    ("a NaN in the analytical Jacobian fails the Jacobian check, which runs first",
     ("x__check_reentrant__mutmut_24", "x__check_reentrant__mutmut_29", "x__check_reentrant__mutmut_31")),
    ("autograd.grad casts each grad_output to its output's dtype (as PyTorch's): backward sees the same "
     "gradient",
     ("x__check_undefined_grad__mutmut_17", "x__check_undefined_grad__mutmut_19", "x__vjp__mutmut_16")),
    ("max(initial=None) of a non-empty array: the same maximum (a failing check's Jacobians have "
     "elements)", ("x__fast_failure__mutmut_17", "x__check_forward_fast__mutmut_81")),
    ("the direction has the input's shape already, and reshape(None) keeps it",
     ("x__forward_products__mutmut_10",)),
    ("warnings.warn with category None or without one warns a UserWarning, as before",
     ("x_gradcheck__mutmut_40", "x_gradcheck__mutmut_43")),
    ("changes only the caller line the warning is attributed to (PyTorch's own points into "
     "gradcheck.py); message and category are unchanged",
     ("x_gradcheck__mutmut_44", "x_gradcheck__mutmut_50")),
    ("outputs and chosen are read only when check_backward_ad is on, which sets them",
     ("x_gradcheck__mutmut_59",)),
    ("gen_non_contig_grad_outputs and masked are accepted for PyTorch's signature and ignored",
     ("x_gradgradcheck__mutmut_4", "x_gradgradcheck__mutmut_13")),
]
_BATCHED = ("a batched pass checks its result by linearity and falls back to one backward per row when "
            "it fails or raises (Note [Batched backward]): a wrong batch shape changes the speed, not the "
            "answer")
_WEAKREF_BRANCH = ("every hooks container is a plain dict, which cannot be weakly referenced: the weakref "
                   "branch is never taken, and the handle holds its dict through the closure either way")
EQUIVALENT: dict[str, dict[str, str]] = {
    "optim": {
        "optim.adam.x__lerp___mutmut_6": _ROUNDING + " (weight 0.5 takes the other, equal form)",
        "optim.adam.x__lerp___mutmut_7": _ROUNDING + " (PyTorch switches forms at 0.5 for accuracy)",
        "optim.more.xǁASGDǁ_update__mutmut_49": _ROUNDING + " (with mu == 1, ax + (p - ax)·1 is p)",
        "optim.more.xǁRAdamǁ_update__mutmut_75": "rho_t equals 5 exactly at no step for betas in "
        "[0, 1): rho_1 = 1 and rho_2 = (1 + 3 beta2) / (1 + beta2) < 2; later steps hit 5 only by accident",
        "optim.more.xǁRpropǁ_update__mutmut_50": "the masked gradient holds float32 values exactly "
        "in float64 too; only its sign is used and it is stored back in the parameter's dtype",
        "optim.optimizer.xǁOptimizerǁadd_param_group__mutmut_43": "warnings.warn with category None "
        "warns a UserWarning, as before",
        "optim.optimizer.xǁOptimizerǁadd_param_group__mutmut_46": "warnings.warn without a category "
        "warns a UserWarning, as before",
        "optim.optimizer.xǁOptimizerǁadd_param_group__mutmut_47": _STACKLEVEL,
        "optim.optimizer.xǁOptimizerǁadd_param_group__mutmut_52": _STACKLEVEL,
        "optim.optimizer.xǁOptimizerǁstate_dict__mutmut_15": _OVERWRITTEN,
        "optim.optimizer.xǁOptimizerǁstate_dict__mutmut_16": _OVERWRITTEN,
    },
    "lbfgs": {
        "optim.lbfgs.x__cubic_minimum__mutmut_26": "x1 == x2 divides by zero on the first line, so the "
        "branch is chosen only for x1 != x2, where <= and < agree",
        **{f"optim.lbfgs.x__strong_wolfe__mutmut_{number}": "None is falsy, as False: `done` and "
           "`insufficient_progress` are only tested for truth" for number in (16, 101, 159, 163)},
        "optim.lbfgs.x__strong_wolfe__mutmut_20": "bracket is set before it is read whenever max_ls >= 0 "
        "(a break sets it, and so does running out of max_ls); with max_eval < 1 both fail (a TypeError "
        "or an IndexError; PyTorch's raises UnboundLocalError)",
        "optim.lbfgs.x__strong_wolfe__mutmut_42": "a slope of 0 meets the curvature test just before "
        "(|0| <= -c2·slope), so this test never sees one",
        "optim.lbfgs.x__strong_wolfe__mutmut_155": "the two distances are equal only at the bracket's "
        "middle, which is never within a tenth of its length of an end, as this branch requires",
        "optim.lbfgs.x__strong_wolfe__mutmut_203": "the bracket's ends differ here (one shorter than "
        "tolerance_change, 1e-9 from step, ends the zoom before), so dividing by their difference gives "
        "the product's sign",
        "optim.lbfgs.xǁLBFGSǁ_flat_grad__mutmut_11": "NumPy reads the size -2 as -1 (one unknown dimension)",
        **{f"optim.lbfgs.xǁLBFGSǁstep__mutmut_{number}": "the LR schedulers read _step_calls only for "
           "truth (has the optimizer stepped?), and it is non-zero after a step either way"
           for number in (35, 36, 42, 43, 44, 45)},
    },
    "printing": {
        "_printing.x__last_line__mutmut_4": "rsplit('\\n') and rsplit('\\n', 1) end with the same last line",
        "_printing.x__last_line__mutmut_7": "rsplit with 2 and with 1 split end with the same last line",
        "_printing.x__element_writer__mutmut_3": "'X' is no NumPy dtype kind, so 'XXbiuXX' accepts the same "
        "kinds as 'biu'",
        "_printing.x__float_style__mutmut_10": "integer_valued=None only changes the last rule (a value "
        "below 1e-4), which no integer-valued tensor has: its non-zero values are at least 1",
        "_printing.x__summarized__mutmut_3": "an axis of exactly 2·edgeitems items: its first and last "
        "edgeitems are the whole axis either way",
        "_printing.x__summarized__mutmut_30": "the summarised array only feeds the element formatter, which "
        "reads its values, never its shape; every axis keeps the same elements",
    },
    "serialization": {
        "serialization.x__check_directory__mutmut_3":
            "a total one byte larger is refused only if the members fill the whole file, which its zip "
            "headers never leave room for",
        "serialization.x__check_directory__mutmut_9":
            "members that claim exactly the file's size leave no room for its zip headers",
        "serialization.x__read_archive__mutmut_18": "rsplit('/') and rsplit('/', 1) end with the same name",
        "serialization.x__read_archive__mutmut_21": "rsplit with 2 and with 1 split end with the same name",
        "serialization.x__read_archive__mutmut_65": "Python's codecs read 'UTF-8' as 'utf-8'",
        "serialization.x_load__mutmut_1": "load ignores weights_only: it never unpickles, whatever it says",
        "serialization.x__read_member__mutmut_19": "NumPy's own default max_header_size is 10000",
        "serialization.x__read_member__mutmut_20":
            ".npy headers are padded to a multiple of 64 bytes, so none "
        "is longer than 10000 and at most 10001",
        "serialization.x__read_member__mutmut_36":
            "the member's size was checked to be exactly the header plus "
        "this many bytes, so reading to the end reads the same",
        "serialization.x__read_member__mutmut_5":
            "a member as large as the whole file would leave no room for "
        "the zip headers around it",
        "serialization.x__read_member__mutmut_6": "unreachable: a stored member's size equals its compressed "
        "size, and _check_directory has bounded the sum of those by the file's size",
        "serialization.x__read_member__mutmut_50": "NumPy reads order='f' as 'F'",
        "serialization.x__read_member__mutmut_52": "NumPy reads order='c' as 'C'",
        "serialization.x_save__mutmut_1": "save ignores _use_new_zipfile_serialization (kept for PyTorch's "
        "signature)",
        "serialization.x_save__mutmut_19": "Python's codecs read 'UTF-8' as 'utf-8'",
        "serialization.xǁ_Encoderǁ_array_name__mutmut_9": "copying an array that is already C-contiguous "
        "stores the same bytes",
        "serialization.xǁ_Encoderǁ_array_name__mutmut_10": "np.savez stores a non-contiguous array as a C or "
        "Fortran .npy, and load reads both orders back",
        "serialization.xǁ_Encoderǁ_array_name__mutmut_11": "ndarray.copy(order=None) copies in C order",
        "serialization.xǁ_Encoderǁ_array_name__mutmut_13": "NumPy reads order='c' as 'C'",
        "serialization.xǁ_Encoderǁencode__mutmut_32": "writes finite floats as their repr string too, which "
        "load turns back into the same float",
    },
    "function": {
        **{f"autograd.function.xǁFunctionǁ__init____mutmut_{number}":
           "changes only the caller line the warning is attributed to; message and category are unchanged"
           for number in (6, 10)},
        "autograd.function.xǁBackwardCFunctionǁbackward__mutmut_3":
            "with no gradient missing, appending an empty tuple of Nones changes nothing",
        **{f"autograd.function.xǁ_FunctionMetaǁ__init____mutmut_{number}":
           "type.__init__ ignores its arguments (the class is made by type.__new__)" for number in (1, 2, 3)},
        "autograd.function.x__delay_error__mutmut_8": "the DelayedError node raises in its backward, before "
        "the engine reads its input metadata",
        **{f"autograd.function.x__delay_error__mutmut_{number}": "Tensor._from_node makes a new version "
           "counter when given None or nothing: the same as the fresh one passed" for number in (19, 23)},
        "autograd.function.x__delay_error__mutmut_27": "a single gradient in a 1-tuple: BackwardCFunction."
        "backward puts a single gradient in a tuple anyway",
        **{f"autograd.function.x__record__mutmut_{number}": "warnings.warn with category None or without "
           "one warns a UserWarning, as before" for number in (59, 62)},
        **{f"autograd.function.x__record__mutmut_{number}": "changes only the caller line the warning is "
           "attributed to; message and category are unchanged" for number in (63, 69)},
        **{f"autograd.function.x__record__mutmut_{number}": "the output number given to _from_node is "
           "overwritten a few lines below (value._output_nr = index)" for number in (74, 80)},
        "autograd.function.x__stamp__mutmut_12": "a saved None stays None either way: were None one of "
        "forward's outputs, results holds None at its index too",
        **{f"autograd.function.x__stamp__mutmut_{number}": "is_output only names saved values "
           "(Node._named_saved_values), and a custom node names none (_saved_names is empty)"
           for number in (21, 24)},
        "autograd.function.x__stamp__mutmut_25": "a saved tensor whose grad_fn is this node is one of its "
        "outputs (a dirty input is returned), so index is not None whenever the right side holds",
        "autograd.function.x__stamp__mutmut_42": "nothing reads _to_save after _stamp: save_for_backward "
        "replaces it, and _stamp runs once per call",
        "autograd.function.xǁBackwardCFunctionǁ__init____mutmut_7": "_record sets _output_meta before the "
        "node can run: a node is reachable (as grad_fn) only once recorded",
        "autograd.function.xǁBackwardCFunctionǁbackward__mutmut_29": "with exactly as many gradients as "
        "inputs, grads[:expected] is the same gradients",
    },
    "gradcheck": {f"autograd.gradcheck.{name}": reason
                  for reason, names in _GRADCHECK_EQUIVALENT for name in names},
    "graph": {
        **{f"autograd.graph.{name}": "the shared all-zero tuple only saves memory: a fresh equal tuple "
           "gives the same edge numbers" for name in (
               "x_output_numbers__mutmut_2", "x_zero_output_numbers__mutmut_1",
               "x_zero_output_numbers__mutmut_2")},
        **{f"autograd.graph.xǁNodeǁ_find_saved__mutmut_{number}": "every node that has slots of its own "
           "sets them when it is recorded (its forward, or the in-place code that makes CopySlices and "
           "AsStridedBackward0 nodes), so getattr's default is never read" for number in (6, 9)},
        **{f"autograd.graph.x_register_multi_grad_hook__mutmut_{number}": "mode 'all' calls fn when the last "
           "expected gradient of the pass arrives; no hook of the group runs again in that pass, so "
           "'done' is never read after it" for number in (50, 51, 52, 53)},
        **{f"autograd.graph.xǁRemovableHandleǁ__init____mutmut_{number}": _WEAKREF_BRANCH
           for number in (2, 4, 5, 9, 10)},
        **{f"autograd.graph.xǁRemovableHandleǁ__init____mutmut_{number}": "the keys stay unique (counting "
           "down, or by two): a handle still removes exactly its own hook" for number in (13, 14)},
        **{f"autograd.graph.xǁsave_on_cpuǁ__init____mutmut_{number}": "pin_memory and device_type are "
           "accepted for PyTorch's signature and ignored (there is one device)" for number in (1, 2, 3)},
        **{f"autograd.graph.xǁsaved_tensors_hooksǁ{name}": "the count of open blocks only lets the op runner "
           "skip a look at the (per-thread) stack, which it checks as well; this change keeps the count "
           "non-zero whenever a block is open" for name in (
               "__enter____mutmut_5", "__enter____mutmut_6", "__exit____mutmut_1", "__exit____mutmut_2")},
        "autograd.graph.xǁNodeǁ__init____mutmut_12": "'' and None are both falsy: no creation stack "
        "either way",
        "autograd.graph.xǁNodeǁ__init____mutmut_5": "_saved_versions is read only with _saved, which is None "
        "until save_for_backward sets both",
        "autograd.graph.xǁNodeǁ__init____mutmut_3": "every node that runs a backward gets its _input_meta "
        "from the code that records it (apply, Function.apply, the in-place and copy paths)",
        "autograd.graph.xǁAccumulateGradǁ__init____mutmut_2": "the engine never fits gradients for a leaf's "
        "AccumulateGrad: its _input_meta is never read",
        **{f"autograd.graph.xǁNodeǁ_release__mutmut_{number}": "a released node is marked _released, which "
           "every reader checks before _saved; '' holds no value, as None" for number in (2, 3)},
        "autograd.graph.xǁNodeǁ_named_saved_values__mutmut_33": "no hand-written node saves more values "
        "than its saved_names has names, so index == len(saved_names) never occurs",
        "autograd.graph.xǁNodeǁ_resave_output__mutmut_2": "the op runner calls it only for a node that saved "
        "something (`if not node._saved: return`); with values saved, skipping the early return leaves "
        "the loop, which replaces the same records",
    },
    "formula": {
        **{f"ops._formula.xǁFormulaǁ{name}": "bypasses the cache of save plans: a plan is computed the "
           "same from the declaration every time" for name in ("_plan__mutmut_1", "_plan__mutmut_2",
                                                                "_save__mutmut_3")},
        **{f"ops._formula.xǁFormulaǁ_plan__mutmut_{number}": "keyword parameters saved with the tensors "
           "instead of kept as passed: the same values reach the formulas and `_saved_<name>` (a tensor "
           "parameter is still saved and version-checked); only what the collector sees differs"
           for number in (24, 25)},
        "ops._formula.xǁFormulaǁ_release__mutmut_10": "freed=None is falsy, as False",
        **{f"ops._formula.xǁFormulaǁ_save__mutmut_{number}": "a packed value's is_output is read only to "
           "name hand-written nodes' saved values; a declared node names them from its plan"
           for number in (42, 45)},
        "ops._formula.xǁFormulaǁ_find_saved__mutmut_28": "a declared node has no attributes of its own "
        "and saves only what its formulas read, so the base lookup finds nothing for any other name, "
        "whichever name it is given",
        "ops._formula.x__forward_defaults__mutmut_3": "a forward parameter without a default must be "
        "passed, so its default is never read",
        "ops._formula.x__forward_parameters__mutmut_6": "a declaration without a forward fails in "
        "_forward_defaults either way (AttributeError)",
    },
    "table": {
        "ops._table.x__operator__mutmut_2": "the fast type test only saves time: the isinstance test after "
        "it accepts the same operands",
        "ops._table.x__checked__mutmut_50": "only an AttributeError has an `obj` (the object it looked in): "
        "for the others getattr falls back to None either way",
        "ops._table.x__checked__mutmut_55": "every AttributeError has an `obj` (Python >= 3.10): the default "
        "is never used",
        "ops._table.x_register__mutmut_67": "the fallback of `function.__doc__ or ...` is never read: the "
        "expression runs only when the docstring is there",
        **{f"ops._table.{name}": "np.asarray returns an ndarray itself: the test only saves a call"
           for name in ("x__output__mutmut_2", "x__wrap__mutmut_3")},
        "ops._table.x__pack_saved__mutmut_15": "a packed value's is_output is read only when it is true "
        "(to name it `result`): None and False name an input alike",
        "ops._table.x__check_floating__mutmut_12": "'X' is no NumPy dtype kind, so 'XXfcXX' accepts the same "
        "kinds as 'fc'",
        "ops._table.x__save_as_target__mutmut_4": "written not through a view, the target's grad_fn is the "
        "op's own node, output 0: the saved result reads back the same with or without the reference",
        **{f"ops._table.x_run_in_place__mutmut_{number}": "copy_ is the one op run with cast (fill.py), and "
           "its kernel returns the source in the target's dtype already (CopyBackwards.forward), so the "
           "dtype check passes with cast or without; under vmap no argument reaches the physical call, so "
           "copies_itself is false either way" for number in (14, 98)},
        "ops._table.x_run_in_place__mutmut_127": "_check_writable has refused every result of a higher "
        "category than the target; for the others NumPy's default 'same_kind' casting copies as 'unsafe' "
        "does",
        "ops._table.x__record__mutmut_39": "_ALL_ZERO.get(None) finds nothing, and zero_output_numbers then "
        "finds (or makes) the same shared tuple: the lookup only saves a call",
        **{f"ops._table.{name}": "the test for a single array only takes a shortcut: the general path wraps "
           "the same array the same way (_output, _wrap)" for name in (
               "x__record__mutmut_53", "x__run_unrecorded__mutmut_10")},
        "ops._table.x__check_no_partial_overlap__mutmut_3": "type(None) is never Tensor, so the isinstance "
        "test alone decides, as it does for every argument the fast type test lets through",
        "ops._table.x__overlaps_itself__mutmut_1": "a dimension of size > 1 with stride 0 implies both tests "
        "before it (size > 1, a zero stride): `A and B and C` and `(A and B) or C` agree",
        "ops._table.x__overlaps_itself__mutmut_3": "an array of one element has only dimensions of size 1, "
        "so the last test is false for it either way",
    },
    "engine": {
        **{f"autograd.engine.x__copy_with_history__mutmut_{number}": "Tensor._from_node makes a fresh "
           "version counter when given none" for number in (18, 22)},
        **{f"autograd.engine.x__store_retained_grad__mutmut_{number}": "the engine casts every gradient "
           "to its input's dtype, so the sum of two has that dtype already" for number in (21, 23)},
        "autograd.engine.x__store_retained_grad__mutmut_8": "a gradient that is a Tensor (inside a "
        "forward-AD level) converts to the same array through __array__",
        **{f"autograd.engine.x__sum_to_array__mutmut_{number}": "summing without keepdims (or over no "
           "axis) holds the same elements in the same order, and the reshape that follows restores the "
           "shape" for number in (24, 25)},
        "autograd.engine.x__nodes_leading_to__mutmut_5": "a child then enters the order at each parent's "
        "turn, not only at its last: every entry still comes after a parent's, so reversed, each node is "
        "decided after its children all the same (only with repeats)",
        **{f"autograd.engine.x__run_pre_hooks__mutmut_{number}": "it is called without on_arrays only for a "
           "leaf, whose gradient then goes to the accumulation alone, which takes an array or a Tensor "
           "alike" for number in (1, 2, 4, 5, 6)},
        **{f"autograd.engine.x__run_node_reporting_origin__mutmut_{number}": "warnings.warn without a "
           "category (or None) warns a UserWarning, as before" for number in (21, 24)},
        **{f"autograd.engine.x__run_node_reporting_origin__mutmut_{number}": "changes only the caller line "
           "the warning is attributed to" for number in (25, 26)},
        "autograd.engine.x__as_data__mutmut_1": "a Tensor left in place of its array is turned into that "
        "array by _fit_to_inputs (np.asarray) before anything reads it",
        **{f"autograd.engine.{name}": _BATCHED for name in (
            "x__run__mutmut_118", "x__run__mutmut_127", "x__run_node__mutmut_45",
            "x__run_node_reporting_origin__mutmut_4", "x_execute__mutmut_6", "x_execute__mutmut_8",
            "x_execute__mutmut_19")},
        **{f"autograd.engine.{name}": "the test before _fit_to_inputs only saves time: when it asks for a "
           "fit that is not needed, _fit_to_inputs returns the gradients as they are" for name in (
               "x__run_node__mutmut_34", "x__run_node__mutmut_35", "x__fit__mutmut_6", "x__fit__mutmut_11",
               "x__fit__mutmut_14", "x__fit__mutmut_18")},
        **{f"autograd.engine.x__run__mutmut_{number}": "`needed` is set only when targets are given, and "
           "the targets fill capture_slots: `watched` is true whenever a target, a capture or an observer "
           "is there, and otherwise the steps it guards do nothing" for number in (62, 64)},
        **{f"autograd.engine.{name}": "np.asarray returns an ndarray itself, and a NumPy scalar has the "
           "shape and dtype the check reads" for name in (
               "x__as_tensor__mutmut_4", "x__as_tensor__mutmut_6", "x__fit_to_inputs__mutmut_19",
               "x__fit_to_inputs__mutmut_20", "x__fit_to_inputs__mutmut_21", "x__fit_to_inputs__mutmut_22")},
        **{f"autograd.engine.{name}": "every caller passes this argument: its default is never read"
           for name in ("x__fit_to_inputs__mutmut_1", "x__run_node__mutmut_1", "x_execute__mutmut_1")},
        **{f"autograd.engine.x__run_node__mutmut_{number}": "without on_arrays, _run_pre_hooks infers it "
           "from the gradients, which are arrays exactly in an array pass" for number in (6, 9)},
        "autograd.engine.x__run_node__mutmut_11": "a single gradient that is None is caught by the "
        "all-None test that follows as well",
        "autograd.engine.x__run__mutmut_12": "captured is returned only when targets were given; backward() "
        "ignores what execute returns",
        **{f"autograd.engine.x__as_tensor__mutmut_{number}": "every gradient of an array pass is an ndarray "
           "by the time it is shown as a Tensor (the roots' arrays; _fit_to_inputs turns each node's results "
           "into ndarrays; hooks' results go through _as_data), so the np.asarray branch is never taken"
           for number in (5, 7)},
        **{f"autograd.engine.{name}": "np.array copies by default: copy=True is NumPy's default"
           for name in ("x__copy_with_history__mutmut_5", "x__store_grad__mutmut_17",
                        "x__store_retained_grad__mutmut_16")},
        "autograd.engine.x__store_grad__mutmut_9": "a gradient that is a Tensor (inside a forward-AD level) "
        "converts to the same array through __array__, in np.array and np.add alike (checked: two backward "
        "passes in a dual level accumulate the same .grad with the mutant)",
        "autograd.engine.x__store_grad__mutmut_26": "the gradient has the dtype of .grad already: the engine "
        "casts every gradient to its input's dtype, and .grad cannot be set to another dtype, so the add "
        "never casts",
        **{f"autograd.engine.xǁGraphTaskǁwill_execute__mutmut_{number}": "`needed` has an entry for every "
           "node reachable from the roots, and it is read only for nodes among the dependencies or the "
           "roots, which are those nodes: get's default is never read" for number in (10, 12)},
        "autograd.engine.x__run_leaf_hooks__mutmut_4": "None is falsy as False: the hooks' Tensor result is "
        "kept, and the capture and the accumulation take a Tensor as they take an array",
    },
    "state_dict": {
        "nn.modules.module.xǁModuleǁ_load_from_state_dict__mutmut_28": "split('.') and split('.', 1) "
        "have the same first part",
        "nn.modules.module.xǁModuleǁ_load_from_state_dict__mutmut_31": "split('.', 2) and "
        "split('.', 1) have the same first part",
        "nn.modules.module.xǁModuleǁstate_dict__mutmut_7": "remove_duplicate=None is falsy, as False",
        "nn.modules.module.xǁModuleǁload_state_dict__mutmut_10": "remove_duplicate=None is falsy, "
        "as False",
        **{f"nn.modules.module.xǁModuleǁ{name}": _HOOK_DICTS for name in (
            "load_state_dict__mutmut_20", "load_state_dict__mutmut_22", "load_state_dict__mutmut_63",
            "load_state_dict__mutmut_65", "state_dict__mutmut_22", "state_dict__mutmut_24",
            "state_dict__mutmut_43", "state_dict__mutmut_45",
        )},
    },
}


def _ignore(directory: str, names: list[str]) -> set[str]:
    return {name for name in names if name in {"__pycache__", ".hypothesis", ".pytest_cache"}}


def _prepare(name: str, target: Target, keep: bool) -> Path:
    """The scratch tree: src/, the module's tests, and a pyproject whose [tool.mutmut] names them."""
    work = SCRATCH / name
    if work.exists() and not keep:
        shutil.rmtree(work)
    work.mkdir(parents=True, exist_ok=True)
    # mutmut records which tests reach each function and, on a later run, collects that only for
    # tests it has not seen: a test edited to reach a new function would not be run against its
    # mutants. The tests are what changed since the last run, so collect it afresh.
    (work / "mutants" / "mutmut-stats.json").unlink(missing_ok=True)
    for folder in ("src", "tests"):
        if (work / folder).exists():
            shutil.rmtree(work / folder)
        shutil.copytree(ROOT / folder, work / folder, ignore=_ignore)
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    settings = config["tool"]["mutmut"]
    text = (ROOT / "pyproject.toml").read_text()
    tests = [test for test in target.tests if (ROOT / test).exists()]
    tests += [argument for test in target.deselect for argument in ("--deselect", test)]
    overrides = {
        "only_mutate": list(target.sources),
        "pytest_add_cli_args_test_selection": tests + [f"--deselect={test}" for test in target.deselect],
    }
    lines = []
    for key, value in overrides.items():
        if key in settings:
            raise SystemExit(f"pyproject.toml's [tool.mutmut] must leave {key} to tools/mutation.py")
        lines.append(f"{key} = {json.dumps(value)}")
    text = text.replace("[tool.mutmut]\n", "[tool.mutmut]\n" + "\n".join(lines) + "\n", 1)
    (work / "pyproject.toml").write_text(text)
    return work


# Collects the module's tests twice in one process, as mutmut does (its fork server collects them
# once, then each mutant's pytest.main collects them again in a fork): prints the node ids the
# second collection lost, one a line.
_COLLECT_TWICE = """
import sys
import pytest

class Collector:
    def __init__(self):
        self.ids = []

    def pytest_collection_modifyitems(self, items):
        self.ids = [item.nodeid for item in items]

runs = []
for _ in range(2):
    collector = Collector()
    pytest.main(["--collect-only", "-qq", "-p", "no:randomly", *sys.argv[1:]], plugins=[collector])
    runs.append(collector.ids)
for node in sorted(set(runs[0]) - set(runs[1])):
    print("LOST", node)
"""


def _check_collection_repeats(work: Path, target: Target) -> None:
    """Refuse to run when a second collection in the same process loses tests.

    mutmut runs each mutant's tests by node id in a process that has collected them before: a
    test whose parameters come from a generator (consumed by the first collection) is then not
    found, pytest stops with a usage error, and every mutant it reaches counts as killed. That
    is how a run once reported 636 / 636 for LBFGS (docs/mutation.md).
    """
    arguments = [test for test in target.tests if (work / test).exists()]
    arguments += [f"--deselect={test}" for test in target.deselect]
    collected = subprocess.run([sys.executable, "-c", _COLLECT_TWICE, *arguments], cwd=work,
                               capture_output=True, text=True,
                               env=dict(os.environ, PYTHONDONTWRITEBYTECODE="1"))
    lines = collected.stdout.strip().splitlines()
    lost = [line.removeprefix("LOST ") for line in lines if line.startswith("LOST ")]
    if collected.returncode != 0 or lost:
        raise SystemExit(
            "a second collection of the tests in one process (as mutmut's) "
            + (f"loses {len(lost)} tests, e.g. {lost[0]}: make their parametrize arguments lists, "
               "not generators" if lost else f"failed:\n{collected.stderr[-2000:]}"))


def _results(work: Path, target: Target) -> dict[str, int | None]:
    """Mutant name -> pytest's exit code (None: not run): the merged record of the runs in `work`."""
    merged = work / "results.json"
    if merged.exists():
        return json.loads(merged.read_text())
    return _mutmut_results(work, target)


def _hashes(work: Path, target: Target) -> dict[str, str]:
    """Function (as mutant names start) -> mutmut's hash of its source, from mutants/."""
    hashes = {}
    for source in target.sources:
        meta = work / "mutants" / (source + ".meta")
        if meta.exists():
            module = source.removeprefix("src/").removesuffix(".py").replace("/", ".")
            for function, digest in json.loads(meta.read_text()).get("hash_by_function_name", {}).items():
                hashes[f"{module}.{function}"] = digest
    return hashes


def _edited_functions(target: Target, old_hashes: dict[str, str]) -> list[str]:
    """Functions (as mutant names start) whose source differs from the last run's."""
    from mutmut.mutation.file_mutation import compute_function_hashes

    edited = []
    for source in target.sources:
        module = source.removeprefix("src/").removesuffix(".py").replace("/", ".")
        for function, digest in compute_function_hashes((ROOT / source).read_text()).items():
            name = f"{module}.{function}"
            if name in old_hashes and old_hashes[name] != digest:
                edited.append(name)
    return edited


def _merge(work: Path, target: Target, previous: dict[str, int | None], old_hashes: dict[str, str]) -> None:
    """Record this run's verdicts over the previous ones (a rerun of survivors leaves the mutants
    it did not run without a verdict in mutmut's files; adding tests never revives a killed one).
    A verdict on a function whose source changed since is dropped: its mutants count as not run."""
    new_hashes = _hashes(work, target)
    changed = {function for function, digest in old_hashes.items() if new_hashes.get(function) != digest}
    codes = {key: code for key, code in previous.items() if key.rsplit("__mutmut_", 1)[0] not in changed}
    codes.update({key: code for key, code in _mutmut_results(work, target).items()
                  if code is not None or key not in codes})
    (work / "results.json").write_text(json.dumps(codes, indent=1, ensure_ascii=False))


def _mutmut_results(work: Path, target: Target) -> dict[str, int | None]:
    """Mutant name -> pytest's exit code (None: not run), from mutmut's files in mutants/."""
    codes: dict[str, int | None] = {}
    for source in target.sources:
        meta = work / "mutants" / (source + ".meta")
        if meta.exists():
            codes.update(json.loads(meta.read_text())["exit_code_by_key"])
    if target.functions:
        import fnmatch

        codes = {
            key: code
            for key, code in codes.items()
            if any(fnmatch.fnmatch(key, pattern) for pattern in target.functions)
        }
    return codes


STATUS = {0: "survived", 1: "killed", 3: "killed", 33: "no tests", 5: "no tests", 36: "timeout",
          24: "timeout", -24: "timeout", 152: "timeout", 255: "timeout", None: "not run"}


def _status(code: int | None) -> str:
    return STATUS.get(code, "suspicious")


_SHOW = """
import json, sys
from mutmut.__main__ import find_mutant, get_diff_for_mutant
names = json.load(sys.stdin)
print(json.dumps({name: get_diff_for_mutant(name, path=find_mutant(name).path) for name in names}))
"""


def _diffs(work: Path, names: list[str]) -> dict[str, str]:
    """Each mutant's diff against the source, read by one mutmut process in the scratch tree."""
    shown = subprocess.run([sys.executable, "-c", _SHOW], cwd=work, input=json.dumps(names),
                           capture_output=True, text=True)
    if shown.returncode != 0:
        print(shown.stderr[-2000:])
        return {}
    return json.loads(shown.stdout.strip().splitlines()[-1])


def _report(name: str, work: Path, target: Target, seconds: float | None, show: bool) -> dict:
    codes = _results(work, target)
    counts: dict[str, int] = {}
    for code in codes.values():
        counts[_status(code)] = counts.get(_status(code), 0) + 1
    # A timeout is a mutant the tests stopped (an endless loop): killed, as mutmut counts it.
    killed = counts.get("killed", 0) + counts.get("timeout", 0)
    total = len(codes)
    equivalent = EQUIVALENT.get(name, {})
    survivors = sorted(key for key, code in codes.items() if _status(code) in {"survived", "no tests"})
    unexplained = [key for key in survivors if key.removeprefix("retrograd.") not in equivalent]
    score = 100.0 * killed / total if total else 0.0
    summary = {
        "module": name,
        "total": total,
        "killed": killed,
        "score": round(score, 1),
        "counts": counts,
        "survivors": survivors,
        "equivalent": {key: equivalent[key.removeprefix("retrograd.")] for key in survivors
                       if key.removeprefix("retrograd.") in equivalent},
        "unexplained": unexplained,
        "seconds": None if seconds is None else round(seconds),
    }
    (work / "summary.json").write_text(json.dumps(summary, indent=2, ensure_ascii=False))
    print(f"\n{name}: {killed} / {total} mutants killed ({score:.1f}%)", end="")
    print("" if seconds is None else f" in {seconds:.0f} s")
    print("  " + ", ".join(f"{count} {status}" for status, count in sorted(counts.items())))
    print(f"  survivors: {len(survivors)}, judged equivalent: {len(summary['equivalent'])}")
    diffs = _diffs(work, unexplained) if show else {}
    for key in unexplained:
        print(f"  survived: {key}")
        if key in diffs:
            print("    " + "\n    ".join(diffs[key].rstrip().splitlines()[2:]))
    return summary


def _scores() -> None:
    """A Markdown table of the last recorded score of each module (for docs/mutation.md)."""
    print("| module | killed / total | score | equivalent survivors | runs (seconds) |")
    print("| --- | --- | --- | --- | --- |")
    for name, target in TARGETS.items():
        work = SCRATCH / name
        if not (work / "mutants").exists():
            print(f"| {name} | not measured | | | |")
            continue
        codes = _results(work, target)
        killed = sum(_status(code) in {"killed", "timeout"} for code in codes.values())
        survivors = [key for key, code in codes.items() if _status(code) in {"survived", "no tests"}]
        equivalent = sum(key.removeprefix("retrograd.") in EQUIVALENT.get(name, {}) for key in survivors)
        runs_file = work / "runs.json"
        runs = json.loads(runs_file.read_text()) if runs_file.exists() else []
        history = ", ".join(
            f"{run['kind']}{'' if run['mutants'] is None else ' of ' + str(run['mutants'])}: {run['seconds']}"
            for run in runs
        )
        score = 100.0 * killed / len(codes) if codes else 0.0
        print(f"| {name} | {killed} / {len(codes)} | {score:.1f}% | {equivalent} | {history} |")
    for name, target in TARGETS.items():
        work = SCRATCH / name
        if not (work / "mutants").exists():
            continue
        codes = _results(work, target)
        survivors = sorted(key for key, code in codes.items() if _status(code) in {"survived", "no tests"})
        not_run = sum(_status(code) == "not run" for code in codes.values())
        print(f"\n### {name}\n")
        if not_run:
            print(f"- {not_run} mutants not run since their function changed (rerun with --survivors)")
        for key in survivors:
            reason = EQUIVALENT.get(name, {}).get(key.removeprefix("retrograd."))
            print(f"- `{key.removeprefix('retrograd.')}`: {reason or 'survives (not judged equivalent)'}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python3 -m tools.mutation", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("module", help="a module name from `list`, or `list`, or `scores`")
    parser.add_argument("--keep", action="store_true", help="reuse the last run (rerun what changed)")
    parser.add_argument("--show", action="store_true", help="print each unexplained survivor's diff")
    parser.add_argument("--report", action="store_true", help="only print the last run's score")
    parser.add_argument("--survivors", action="store_true",
                        help="rerun only the mutants that survived the last run (after new tests)")
    parser.add_argument("--jobs", type=int, default=2, help="mutants run at once (default 2)")
    parser.add_argument("mutants", nargs="*", help="only these mutant names (globs), e.g. survivors")
    args = parser.parse_args(argv)
    if args.module == "scores":
        _scores()
        return 0
    if args.module == "list":
        for name, target in TARGETS.items():
            print(f"{name}: {' '.join(target.sources)}")
            if target.functions:
                print(f"    functions: {' '.join(target.functions)}")
            print(f"    tests: {' '.join(target.tests)}")
            if target.deselect:
                print(f"    deselected: {' '.join(target.deselect)}")
        return 0
    if args.module not in TARGETS:
        raise SystemExit(f"unknown module {args.module!r}; one of: {', '.join(TARGETS)}")
    target = TARGETS[args.module]
    work = SCRATCH / args.module
    if args.report:
        _report(args.module, work, target, None, args.show)
        return 0
    try:
        import mutmut  # noqa: F401
    except ImportError:
        raise SystemExit("mutmut is not installed: pip install -e '.[mutation]'") from None
    names = list(args.mutants) or list(target.functions)
    previous = _results(work, target) if (args.survivors or args.mutants or args.keep) else {}
    old_hashes = _hashes(work, target)
    if args.survivors:
        codes = previous
        names = [key for key, code in codes.items() if _status(code) in {"survived", "no tests", "not run"}]
        # Functions edited since the last run: their old verdicts are dropped (see _merge) and their
        # mutants renumbered, so all of them run again.
        names += [f"{function}__mutmut_*" for function in _edited_functions(target, old_hashes)]
        if not names:
            print(f"{args.module}: no survivors to rerun")
            return 0
    work = _prepare(args.module, target, keep=args.keep or bool(args.mutants) or args.survivors)
    _check_collection_repeats(work, target)
    command = ["nice", "-n", "10", sys.executable, "-m", "mutmut", "run", "--max-children", str(args.jobs),
               *names]
    environment = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
    started = time.monotonic()
    # mutmut draws a progress line many times a second; keep only its last state.
    process = subprocess.run(command, cwd=work, env=environment, capture_output=True, text=True)
    seconds = time.monotonic() - started
    if process.returncode != 0:
        sys.stdout.write(process.stdout[-4000:] + process.stderr[-4000:])
        return process.returncode
    _merge(work, target, previous, old_hashes)
    runs_file = work / "runs.json"
    runs = json.loads(runs_file.read_text()) if runs_file.exists() else []
    run_kind = "survivors" if args.survivors else "selected" if args.mutants else "full"
    runs.append({"kind": run_kind, "mutants": len(names) if (args.survivors or args.mutants) else None,
                 "seconds": round(seconds), "load": round(os.getloadavg()[0], 1)})
    runs_file.write_text(json.dumps(runs, indent=1))
    last = re.split(r"[\r\n⠀-⣿]", process.stdout.strip())
    print(" ".join(part for part in last[-3:] if part.strip()))
    _report(args.module, work, target, seconds, args.show)
    return 0


if __name__ == "__main__":
    sys.exit(main())
