"""Old-style PyTorch: Variable, typed constructors, torch.Tensor(...) and tensor.new_*."""

import torch
from torch.autograd import Variable

# A running total started the old way stays a float tensor.
total = torch.Tensor([0])
for value in [0.5, 1.25, 2.0]:
    total += torch.tensor(value)
print("total:", total, total.dtype)

# Typed constructors and the isinstance checks old code relies on.
weights = torch.FloatTensor([[0.5, -1.0], [2.0, 0.25]])
labels = torch.LongTensor([1, 0])
mask = torch.ByteTensor([1, 0, 1])
flags = torch.BoolTensor([True, False])
counts = torch.IntTensor([3, 4])
precise = torch.DoubleTensor([1.0, 2.0])
for name, value in [("weights", weights), ("labels", labels), ("mask", mask), ("flags", flags),
                    ("counts", counts), ("precise", precise)]:
    print(name, value.dtype, value.type(), isinstance(value, torch.FloatTensor),
          isinstance(value, torch.LongTensor))
print("empty sizes:", torch.Tensor(2, 3).shape, torch.FloatTensor(4).shape, torch.Tensor().shape)
print("converted:", weights.type(torch.DoubleTensor).dtype, labels.type("torch.FloatTensor"))

# Variable is the tensor itself these days.
x = Variable(torch.tensor([1.0, 2.0, 3.0]), requires_grad=True)
print("isinstance Variable:", isinstance(x, Variable), isinstance(weights, Variable))
y = (x * x).sum()
y.backward()
print("x.grad:", x.grad)
detached = Variable(y)
print("Variable of a result:", detached.requires_grad, detached.grad_fn)

# new_* keep the dtype of the tensor they are called on.
template = torch.tensor([[1, 2], [3, 4]])
print(template.new_zeros(2, 3))
print(template.new_ones((2,)))
print(template.new_full((2, 2), 7))
print(template.new_tensor([1.9, -2.5]))
print(template.new_empty(3).shape, template.new_empty(3).dtype)
print(weights.new_ones(2, requires_grad=True))
print(weights.new_zeros(size=(1, 2), dtype=torch.float64))

# size= as a keyword of the creation functions.
print(torch.zeros(size=(2, 2)))
print(torch.ones(size=[3]), torch.empty(size=(0, 2)).shape)
print(torch.randn(size=()).shape, torch.rand(size=(2, 5)).shape)
