"""vmap's batched tensors and the batching rules of the op table.

Note [Batched tensors]
    Inside `vmap`, a function sees each input as one example: a `BatchedTensor` whose
    logical shape lacks the mapped dim. It wraps a PHYSICAL tensor (an ordinary Tensor) that
    holds the whole batch, with one batch dim per vmap level it is batched over, at the
    FRONT, in the order the levels were entered (outermost first):

        physical.shape == (B_level1, B_level2, ..., *logical_shape)

    `levels` names those levels. A tensor batched over fewer levels than are active simply
    lacks the others (it is the same for every example of those levels).

    When an op of the table meets a batched input, `apply` hands the call to `apply_batched`
    (see Note [Batching rules]) before anything is computed or recorded. The rule rewrites
    the logical call as ordinary calls on physical tensors: those are recorded as usual, so
    the autograd graph is built on physical tensors and backward needs nothing new. Code
    outside vmap pays one test of an integer (`vmap_state.depth`) per op.

    A BatchedTensor answers the metadata questions (`shape`, `dim()`, `dtype`) with its
    logical values; its `_data` is a read-only, zero-strided stand-in array of the logical
    shape, so that an op's argument checking (which reads `input._data.shape`) sees the
    logical shape. Computing on that stand-in raises (it has no values): an op that
    computes on arrays before `apply` needs a function-level rule (`FUNCTION_RULES`).

Note [Batching rules]
    A rule is `rule(node_class, inputs, params, levels)`, keyed by the op's node class
    (the grad_fn class `apply` records), returning the logical result as BatchedTensors:

      - elementwise ops: move every batched operand's batch dims to the front (size 1 for
        levels it lacks) and pad its logical rank, then one ordinary call (broadcasting
        does the rest);
      - reductions and shape ops: shift the dims they name by the number of batch dims,
        prepend the batch sizes to the shapes they take;
      - matmul and friends: align the operands so that NumPy's batched matmul rules apply,
        with the 1-d cases made explicit.

    An op with no rule falls back to a loop over the examples (each example's call is
    recorded, the results stacked), which is correct for every op but slow: it warns with
    the op's name, as PyTorch does.

    Most ops decide everything from metadata before `apply` and are batched there. The few
    that compute on arrays before `apply` (comparisons, argmax, gather, the class-index
    losses...) are listed in FUNCTION_RULES: `register` wraps those (and only those) so
    that, inside vmap, their rule sees the logical call; batched tensors take the wrapped
    methods, plain tensors keep the unwrapped ones. Random ops consult the level's
    `randomness` (see _vmap_state.py).

The package's modules, in the order their ops enter the op table: tensor, rules, functions,
more_rules (index, scatter, product and normalization nodes), more_functions (the ops that
read values before `apply`: losses, batch norm, per-example indices).
"""

from ..._vmap_state import pop_level, push_level, vmap_state  # re-exported, as before the split

# isort: off
from . import tensor
from . import rules
from . import functions
from . import more_rules
from . import more_functions
# isort: on
from .functions import (
    _ELEMENTWISE_FUNCTIONS,
    FUNCTION_RULES,
    _addmm_rule,
    _argument,
    _class_loss_rule,
    _dynamic_shape,
    _einsum_rule,
    _embedding_rule,
    _function_dim,
    _function_elementwise,
    _function_fallback,
    _gather_rule,
    _getitem,
    _index_select_rule,
    _matmul_rule,
    _one_hot_rule,
    _register_linalg,
    _with_argument,
    any_batched,
    batched_function,
    batched_matmul,
    in_place,
)
from .rules import (
    _elementwise,
    _register_families,
    _shift,
)
from .tensor import (
    _CONTROL_FLOW,
    _ITEM,
    _METADATA_FUNCTIONS,
    _NO_VALUES,
    _RESOLVED,
    _RULES,
    BATCHED_CLASS_BODY,
    AttachedToBatched,
    BatchedTensor,
    _fallback,
    _find_rule,
    _lazy_ops,
    _level_number,
    _logical_rank,
    _op_name,
    _ops,
    _result,
    _stack_results,
    _Stand_in,
    _stand_in,
    _union,
    _view,
    _warned,
    apply_batched,
    batched_attached,
    levels_of,
    loop_over_examples,
    physical_at,
    register_batched_method,
    rule,
    warn_fallback,
    wrap,
)

# The modules of this package, in import order.
MODULES = (tensor, rules, functions, more_rules, more_functions)

__all__ = [
    "BatchedTensor",
    "apply_batched",
    "vmap_state",
]
