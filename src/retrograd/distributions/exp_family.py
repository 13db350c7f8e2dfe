"""`ExponentialFamily`: distributions whose density is exp(<t(x), theta> - F(theta) + k(x)).

A family that gives its natural parameters theta (`_natural_params`), its log normaliser F
(`_log_normalizer`) and the mean of its carrier measure k (`_mean_carrier_measure`) gets its
entropy from them, and a KL divergence to another member of the same family as the Bregman
divergence of F (kl.py), both through autograd.
"""

from __future__ import annotations

import retrograd

from .distribution import Distribution

__all__ = ["ExponentialFamily"]


class ExponentialFamily(Distribution):
    """The base class of exponential families (Normal, Bernoulli, Exponential, Beta, ...)."""

    @property
    def _natural_params(self) -> tuple:
        raise NotImplementedError

    def _log_normalizer(self, *natural_params):
        raise NotImplementedError

    @property
    def _mean_carrier_measure(self):
        raise NotImplementedError

    def entropy(self):
        """F(theta) - <theta, grad F(theta)> - E[k(x)], with grad F from autograd."""
        entropy = -self._mean_carrier_measure
        natural_params = [param.detach().requires_grad_() for param in self._natural_params]
        with retrograd.enable_grad():
            log_normalizer = self._log_normalizer(*natural_params)
            gradients = retrograd.autograd.grad(log_normalizer.sum(), natural_params, create_graph=True)
        entropy = entropy + log_normalizer
        for param, gradient in zip(natural_params, gradients):
            entropy = entropy - param * gradient
        return entropy
