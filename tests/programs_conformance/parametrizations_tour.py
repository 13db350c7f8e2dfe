"""Parametrizations in the style of PyTorch's tutorial: constraints as modules on a tensor."""

import torch
import torch.nn as nn
import torch.nn.utils.parametrize as parametrize
from torch.nn.utils import parametrizations


class Symmetric(nn.Module):
    def forward(self, X):
        return X.triu() + X.triu(1).transpose(-1, -2)


class Skew(nn.Module):
    def forward(self, X):
        A = X.triu(1)
        return A - A.transpose(-1, -2)


class NoNegatives(nn.Module):
    def forward(self, X):
        return X.abs()

    def right_inverse(self, Y):
        return Y


class Split(nn.Module):
    """Two stored tensors whose sum is the weight."""

    def forward(self, A, B):
        return A + B

    def right_inverse(self, W):
        return W / 4, 3 * W / 4


torch.manual_seed(7)
layer = nn.Linear(3, 3)
parametrize.register_parametrization(layer, "weight", Symmetric())
print(layer)
print(type(layer).__name__, parametrize.type_before_parametrizations(layer).__name__)
print(parametrize.is_parametrized(layer), parametrize.is_parametrized(layer, "bias"))
print(layer.weight)
print(layer.parametrizations.weight.original)
print(list(layer.state_dict().keys()))
print([name for name, _ in layer.named_parameters()])

x = torch.randn(4, 3)
layer(x).pow(2).sum().backward()
print(layer.parametrizations.weight.original.grad)

parametrize.register_parametrization(layer, "weight", NoNegatives())
print(layer)
print(layer.weight)
positive = nn.Linear(2, 2)
parametrize.register_parametrization(positive, "weight", NoNegatives())
parametrize.register_parametrization(positive, "weight", NoNegatives())
with torch.no_grad():
    positive.weight = torch.tensor([[1.0, -2.0], [3.0, 4.0]])
print(positive.parametrizations.weight.original)
print(positive.weight)

with parametrize.cached():
    first = layer.weight
    second = layer.weight
print(first is second, layer.weight is layer.weight)

parametrize.remove_parametrizations(layer, "weight", leave_parametrized=False)
print(layer)
print(layer.weight)

skew = nn.Linear(4, 4)
parametrize.register_parametrization(skew, "weight", Skew())
parametrize.remove_parametrizations(skew, "weight")
print(type(skew).__name__, skew.weight)

split = nn.Linear(2, 3)
parametrize.register_parametrization(split, "weight", Split())
print(list(split.state_dict().keys()))
print(split.parametrizations.weight.original0)
print(split.parametrizations.weight.original1)
split(torch.ones(1, 2)).sum().backward()
print(split.parametrizations.weight.original0.grad)

target = nn.Linear(3, 3)
parametrize.register_parametrization(target, "weight", Symmetric())
other = nn.Linear(3, 3)
parametrize.transfer_parametrizations_and_params(target, other)
print(other.parametrizations.weight.original is target.parametrizations.weight.original)
print(torch.equal(other.weight, target.weight))

square = nn.Linear(4, 4)
parametrizations.orthogonal(square)
print(square)
print(list(square.state_dict().keys()))
print(square.weight)
print(torch.dist(square.weight @ square.weight.T, torch.eye(4)) < 1e-5)
square(torch.randn(2, 4)).sum().backward()
print(square.parametrizations.weight.original.grad)

for orthogonal_map in ("matrix_exp", "cayley", "householder"):
    wide = nn.Linear(5, 3)
    parametrizations.orthogonal(wide, orthogonal_map=orthogonal_map)
    print(orthogonal_map, wide.weight)
    wide(torch.randn(2, 5)).pow(2).sum().backward()
    print(wide.parametrizations.weight.original.grad)

plain = nn.Linear(5, 3)
parametrizations.orthogonal(plain, use_trivialization=False)
print(list(plain.state_dict().keys()))
print(plain.parametrizations.weight.original)
print(plain.weight)

normed = nn.Linear(3, 4)
parametrizations.weight_norm(normed)
print(normed)
print(list(normed.state_dict().keys()))
print(normed.parametrizations.weight.original0)
normed(torch.randn(2, 3)).sum().backward()
print(normed.parametrizations.weight.original0.grad)
print(normed.parametrizations.weight.original1.grad)

whole = nn.Linear(3, 2)
parametrizations.weight_norm(whole, dim=None)
print(whole.parametrizations.weight.original0)

spectral = nn.Linear(5, 4)
parametrizations.spectral_norm(spectral)
print(spectral)
print(list(spectral.state_dict().keys()))
print(spectral.parametrizations.weight[0]._u, spectral.parametrizations.weight[0]._v)
print(spectral.weight)
print(torch.linalg.matrix_norm(spectral.weight, ord=2))
spectral(torch.randn(2, 5)).sum().backward()
print(spectral.parametrizations.weight.original.grad)
spectral.eval()
before = spectral.parametrizations.weight[0]._u.clone()
spectral.weight
print(torch.equal(before, spectral.parametrizations.weight[0]._u))
spectral.train()
spectral.weight
print(torch.equal(before, spectral.parametrizations.weight[0]._u))

conv = nn.Conv2d(2, 3, 3)
parametrizations.spectral_norm(conv, n_power_iterations=3)
print(conv.parametrizations.weight[0].n_power_iterations, conv.parametrizations.weight[0]._v.shape)
print(conv.weight.sum())


class MatrixExponential(nn.Module):
    def forward(self, X):
        return torch.matrix_exp(X)


class CayleyMap(nn.Module):
    def __init__(self, n):
        super().__init__()
        self.register_buffer("Id", torch.eye(n))

    def forward(self, X):
        return torch.linalg.solve(self.Id - X, self.Id + X)

    def right_inverse(self, A):
        return torch.linalg.solve(A + self.Id, A - self.Id)


rotating = nn.Linear(3, 3)
parametrize.register_parametrization(rotating, "weight", Skew())
parametrize.register_parametrization(rotating, "weight", MatrixExponential())
X = rotating.weight
print(torch.dist(X.T @ X, torch.eye(3)) < 1e-5)
print(X)
rotating(torch.randn(2, 3)).sum().backward()
print(rotating.parametrizations.weight.original.grad)

cayley = nn.Linear(3, 3)
parametrize.register_parametrization(cayley, "weight", Skew())
parametrize.register_parametrization(cayley, "weight", CayleyMap(3))
print(cayley)
print(cayley.weight)
