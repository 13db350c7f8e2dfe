"""Profiling forward and backward: which operations ran and how often."""

import torch
from torch.autograd import profiler

x = torch.linspace(-1.0, 1.0, 50, requires_grad=True)
with profiler.profile() as prof:
    with profiler.record_function("forward_block"):
        y = torch.sin(x) * torch.exp(x)
        loss = y.sum()
    loss.backward()

averages = {event.key: event for event in prof.key_averages()}
for name in ["forward_block", "aten::sin", "aten::exp", "aten::sum", "SumBackward0", "MulBackward0",
             "SinBackward0", "ExpBackward0", "autograd::engine::evaluate_function: MulBackward0"]:
    print(f"{name}: {averages[name].count} call(s)")
block = averages["forward_block"]
print("block total >= self:", block.cpu_time_total >= block.self_cpu_time_total)
table = prof.key_averages().table(sort_by="cpu_time_total", row_limit=5)
lines = table.splitlines()
print(lines[1].split())
print(len(lines), lines[-1].split(":")[0])
print("x.grad ok:", torch.allclose(x.grad, (torch.cos(x) + torch.sin(x)) * torch.exp(x)))
