"""Results written into given tensors (out=), in-place functions, and what the graph prints."""

import math

import torch

# out=: the result lands in the tensor given, which keeps its identity and counts the write.
x = torch.tensor([1.0, 2.0, 3.0])
result = torch.empty(3)
returned = torch.mul(x, 2, out=result)
print("out:", result, returned is result, result._version)
empty = torch.empty(0)
torch.matmul(torch.ones(2, 3), torch.ones(3, 2), out=empty)
print("resized from empty:", empty.shape)
values, indices = torch.empty(0), torch.empty(0, dtype=torch.long)
found = torch.max(torch.tensor([[1.0, 5.0], [3.0, 2.0]]), 1, out=(values, indices))
print("max:", found.values is values, found.indices is indices, values, indices)
print("zeros into a long tensor:", torch.zeros(2, out=torch.empty(0, dtype=torch.long)))
try:
    torch.add(torch.ones(2, requires_grad=True), 1, out=torch.empty(2))
except RuntimeError as error:
    print("RuntimeError:", error)
try:
    torch.sin(torch.tensor([1, 2]), out=torch.empty(2, dtype=torch.long))
except RuntimeError as error:
    print("RuntimeError:", error)

# Function forms of in-place ops.
y = torch.tensor([-1.0, 0.5, 2.0])
torch.relu_(y)
torch.threshold_(y, 1.0, -1.0)
print("in place:", y)

# What users see of the graph.
w = torch.tensor([1.0, 2.0], requires_grad=True)
z = w * torch.tensor([3.0, 4.0])
print(type(w).__name__, type(w).__module__.replace("retrograd", "torch"))
print(z.grad_fn.name(), hasattr(z.grad_fn, "saved_tensors"), z.grad_fn._saved_other)


class Square(torch.autograd.Function):
    @staticmethod
    def forward(ctx, value):
        ctx.save_for_backward(value)
        return value * value

    @staticmethod
    def backward(ctx, grad):
        (value,) = ctx.saved_tensors
        return 2 * value * grad


node = Square.apply(w).grad_fn
print(type(node).__name__, hasattr(node, "saved_tensors"), len(node.saved_tensors))
print(repr(node).split(" object at")[0].replace("retrograd", "torch"))

# Floating-point edge cases compute silently, and float32 bits follow PyTorch's kernels.
print(torch.tensor(1e30) / torch.tensor(1e-30), torch.log(torch.tensor([0.0, -1.0])))
print((torch.tensor(3.7) ** 3).item())
grid = torch.linspace(-math.pi, math.pi, 2000)
print(grid[1].item(), grid[1000].item(), grid[-2].item())
