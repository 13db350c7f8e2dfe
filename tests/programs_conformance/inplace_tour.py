"""In-place operations: function forms (torch.relu_), and in-place reshaping (unsqueeze_)."""

import torch

x = torch.linspace(-2.0, 2.0, 5)
torch.relu_(x)
print("relu_:", x)
angles = torch.tensor([0.0, 0.5, 1.0])
torch.sin_(angles)
print("sin_:", angles)
values = torch.tensor([0.25, 4.0, 9.0])
for name in ["sqrt_", "exp_", "log_", "neg_", "abs_", "sigmoid_", "tanh_", "floor_", "ceil_", "round_",
             "trunc_", "frac_", "reciprocal_", "rsqrt_", "square_", "cos_", "log1p_", "expm1_", "erf_"]:
    result = getattr(torch, name)(values.clone())
    print(f"torch.{name}:", result)
print("clamp_:", torch.clamp_(torch.tensor([-3.0, 0.5, 3.0]), -1.0, 1.0))
print("clamp_min_:", torch.clamp_min_(torch.tensor([-3.0, 0.5]), 0.0))
print("clamp_max_:", torch.clamp_max_(torch.tensor([-3.0, 0.5]), 0.0))
print("negative_:", torch.negative_(torch.tensor([1.0, -2.0])))

# Reshaping in place keeps the memory and the graph.
w = torch.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], requires_grad=True)
h = w * 2
h.unsqueeze_(0)
print("unsqueeze_:", h.shape, type(h.grad_fn).__name__, h._version)
h.squeeze_()
print("squeeze_:", h.shape, type(h.grad_fn).__name__)
h.t_()
print("t_:", h.shape, type(h.grad_fn).__name__, h.is_contiguous())
h.transpose_(0, 1)
print("transpose_:", h.shape, type(h.grad_fn).__name__)
(h * torch.arange(6.0).reshape(2, 3)).sum().backward()
print("w.grad:", w.grad)

try:
    w.unsqueeze_(0)
except RuntimeError as error:
    print("RuntimeError:", error)

buffer = torch.arange(6.0)
buffer.resize_(2, 3)
print("resize_:", buffer)
buffer.resize_(2, 2)
print("resize_ smaller:", buffer)
buffer.resize_as_(torch.zeros(4))
print("resize_as_:", buffer)
try:
    w.resize_(3)
except RuntimeError as error:
    print("RuntimeError:", error)
