"""A small regression trained through nn.DataParallel, watched by module backward hooks."""

import torch
from torch import nn


class Regressor(nn.Module):
    def __init__(self):
        super().__init__()
        self.hidden = nn.Linear(2, 4)
        self.act = nn.Tanh()
        self.out = nn.Linear(4, 1)

    def forward(self, x):
        return self.out(self.act(self.hidden(x)))


model = Regressor()
with torch.no_grad():
    for index, parameter in enumerate(model.parameters()):
        parameter.copy_(torch.linspace(-0.5, 0.5, parameter.numel()).reshape(parameter.shape) * (index + 1))

seen = []
model.act.register_backward_hook(
    lambda module, grad_input, grad_output: seen.append((type(module).__name__, len(grad_input),
                                                         tuple(grad_output[0].shape)))
)
full = []
model.out.register_full_backward_hook(
    lambda module, grad_input, grad_output: full.append(tuple(grad_output[0].shape))
)

parallel = nn.DataParallel(model)
print(parallel)
print(list(parallel.state_dict().keys()))

inputs = torch.stack([torch.linspace(-1.0, 1.0, 8), torch.linspace(1.0, -1.0, 8) ** 2], dim=1)
targets = (inputs[:, :1] * 0.7 - inputs[:, 1:] * 0.2 + 0.1)
optimizer = torch.optim.SGD(parallel.parameters(), lr=0.1)
for step in range(5):
    optimizer.zero_grad()
    loss = nn.functional.mse_loss(parallel(inputs), targets)
    loss.backward()
    optimizer.step()
    print(f"step {step}: loss {loss.item():.6f}")
print("backward hook calls:", seen[:2], len(seen))
print("full hook calls:", full[:2], len(full))
print("final bias:", model.out.bias.data)
