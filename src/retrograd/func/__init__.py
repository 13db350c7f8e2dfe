"""Composable function transforms, as PyTorch's `torch.func`: grad, grad_and_value, vjp,
jvp, linearize, jacrev, jacfwd, hessian, vmap, functional_call, stack_module_state.

Transforms compose in any order (`vmap(grad(f))` gives per-example gradients,
`jacfwd(jacrev(f))` a Hessian), never touch `.grad`, and work on `nn.Module`s through
`functional_call`. See Note [Transforms on the physical graph] (_eager.py) and
Note [Batched tensors] (ops/_batching/).
"""

from ._eager import grad, grad_and_value, hessian, jacfwd, jacrev, jvp, linearize, vjp
from ._functional_call import functional_call, stack_module_state
from ._vmap import vmap

__all__ = [
    "functional_call",
    "grad",
    "grad_and_value",
    "hessian",
    "jacfwd",
    "jacrev",
    "jvp",
    "linearize",
    "stack_module_state",
    "vjp",
    "vmap",
]
