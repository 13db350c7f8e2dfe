"""Second-order and Jacobian workloads: a Hessian-vector product (w5) and a Jacobian (w8)."""

from __future__ import annotations

import numpy as np

from ._base import Unavailable, Workload, constant, leaf, torch_like

# ---------------------------------------------------------------------------
# w5: H v for f(x) = sum(tanh(W x)^2), by differentiating the gradient (double backward).
# With t = tanh(W x): grad f = W^T (2 t (1 - t^2)) and H v = W^T (s * (W v)), where
# s = (2 - 6 t^2)(1 - t^2) is the derivative of 2 t (1 - t^2) in W x.


def hvp_problem(quick: bool) -> dict:
    size = 20 if quick else 1000
    rng = np.random.default_rng(3)
    return {
        "matrix": rng.normal(0.0, 1.0 / np.sqrt(size), (size, size)),
        "x": rng.normal(0.0, 1.0, size),
        "v": rng.normal(0.0, 1.0, size),
    }


def numpy_hvp(np_module, problem):
    matrix, x, v = problem["matrix"], problem["x"], problem["v"]

    def step():
        t = np.tanh(matrix @ x)
        t_squared = t * t
        curvature = (2 - 6 * t_squared) * (1 - t_squared)
        return [matrix.T @ (curvature * (matrix @ v))]

    return step


@torch_like("tanh", "matmul", "autograd.grad")
def torch_like_hvp(T, problem):
    matrix, v = constant(T, problem["matrix"]), constant(T, problem["v"])
    x = leaf(T, problem["x"])

    def step():
        value = (T.tanh(matrix @ x) ** 2).sum()
        (gradient,) = T.autograd.grad(value, x, create_graph=True)
        (product,) = T.autograd.grad(gradient, x, grad_outputs=v)
        return [product]

    return step


def autograd_hvp(module, problem):
    import autograd.numpy as anp

    matrix, x, v = problem["matrix"], problem["x"], problem["v"]
    product = module.hessian_vector_product(lambda x: anp.sum(anp.tanh(anp.dot(matrix, x)) ** 2))
    return lambda: [product(x, v)]


def _no_second_order(module, problem):
    raise Unavailable("no higher-order derivatives")


def w5() -> Workload:
    return Workload(
        key="w5",
        title="Hessian-vector product of sum(tanh(W x)^2), n = 1000, float64, double backward",
        unit="ms",
        make_problem=hvp_problem,
        builders={
            "numpy": numpy_hvp,
            "retrograd": torch_like_hvp,
            "torch": torch_like_hvp,
            "autograd": autograd_hvp,
            "mygrad": _no_second_order,
            "micrograd": _no_second_order,
        },
        rtol=1e-8,
        atol=1e-10,
    )


# ---------------------------------------------------------------------------
# w8: the 100 x 100 Jacobian of f(x) = tanh(W x) + sin(x), whose closed form is
# diag(1 - tanh(W x)^2) W + diag(cos x).


def jacobian_problem(quick: bool) -> dict:
    size = 10 if quick else 100
    rng = np.random.default_rng(4)
    return {"matrix": rng.normal(0.0, 1.0 / np.sqrt(size), (size, size)), "x": rng.normal(0.0, 1.0, size)}


def numpy_jacobian(np_module, problem):
    matrix, x = problem["matrix"], problem["x"]

    def step():
        t = np.tanh(matrix @ x)
        jacobian = (1 - t * t)[:, None] * matrix
        jacobian[np.diag_indices_from(jacobian)] += np.cos(x)
        return [jacobian]

    return step


def _torch_like_jacobian(vectorize: bool):
    @torch_like("tanh", "matmul", "autograd.functional.jacobian")
    def build(T, problem):
        matrix, x = constant(T, problem["matrix"]), constant(T, problem["x"])

        def function(x):
            return T.tanh(matrix @ x) + T.sin(x)

        jacobian = T.autograd.functional.jacobian
        return lambda: [jacobian(function, x, vectorize=vectorize)]

    return build


def autograd_jacobian(module, problem):
    import autograd.numpy as anp

    matrix, x = problem["matrix"], problem["x"]
    jacobian = module.jacobian(lambda x: anp.tanh(anp.dot(matrix, x)) + anp.sin(x))
    return lambda: [jacobian(x)]


def _no_jacobian(module, problem):
    raise Unavailable("no Jacobian API")


def _no_vectorised_jacobian(module, problem):
    raise Unavailable("no vectorised Jacobian (its jacobian loops over outputs)")


def w8() -> list[Workload]:
    looped = Workload(
        key="w8 looped",
        title="jacobian of tanh(W x) + sin(x), 100 -> 100, one backward per output row",
        unit="ms",
        make_problem=jacobian_problem,
        builders={
            "numpy": numpy_jacobian,
            "retrograd": _torch_like_jacobian(vectorize=False),
            "torch": _torch_like_jacobian(vectorize=False),
            "autograd": autograd_jacobian,
            "mygrad": _no_jacobian,
            "micrograd": _no_jacobian,
        },
        rtol=1e-8,
        atol=1e-10,
    )
    vectorised = Workload(
        key="w8 vectorised",
        title="the same Jacobian with jacobian(..., vectorize=True)",
        unit="ms",
        make_problem=jacobian_problem,
        builders={
            "numpy": numpy_jacobian,
            "retrograd": _torch_like_jacobian(vectorize=True),
            "torch": _torch_like_jacobian(vectorize=True),
            "autograd": _no_vectorised_jacobian,
            "mygrad": _no_jacobian,
            "micrograd": _no_jacobian,
        },
        rtol=1e-8,
        atol=1e-10,
    )
    return [looped, vectorised]
