"""Pruning in the style of PyTorch's tutorial: masks, hooks, iterative and global pruning."""

import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.nn.utils.prune as prune


class LeNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 6, 3)
        self.conv2 = nn.Conv2d(6, 16, 3)
        self.fc1 = nn.Linear(16 * 5 * 5, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), (2, 2))
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        x = x.view(-1, int(x.nelement() / x.shape[0]))
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        return self.fc3(x)


def hook_names(module):
    """The hooks as the tutorial prints them, without the objects' addresses."""
    hooks = module._forward_pre_hooks
    return type(hooks).__name__, [(key, type(hook).__module__, type(hook).__name__) for key, hook in hooks.items()]


torch.manual_seed(3)
model = LeNet()
module = model.conv1
print(next(iter(module.named_parameters()))[0], list(module.named_buffers()))

prune.random_unstructured(module, name="weight", amount=0.3)
print([name for name, _ in module.named_parameters()])
print([name for name, _ in module.named_buffers()])
print(module.weight_mask[0])
print(module.weight[0])
print(hook_names(module))

prune.l1_unstructured(module, name="bias", amount=3)
print(module.bias_mask, module.bias)
print(hook_names(module))

prune.ln_structured(module, name="weight", amount=0.5, n=2, dim=0)
print(module.weight_mask.sum(dim=(1, 2, 3)))
for hook in module._forward_pre_hooks.values():
    if hook._tensor_name == "weight":
        break
print(type(hook).__name__, [type(method).__name__ for method in hook])
print(list(module.state_dict().keys()))
print(prune.is_pruned(model), prune.is_pruned(model.fc3))

prune.remove(module, "weight")
print([name for name, _ in module.named_parameters()])
print(hook_names(module))
print(module.weight.sum(), (module.weight == 0).sum())

new_model = LeNet()
for submodule in new_model.modules():
    if isinstance(submodule, torch.nn.Conv2d):
        prune.l1_unstructured(submodule, name="weight", amount=0.2)
    elif isinstance(submodule, torch.nn.Linear):
        prune.l1_unstructured(submodule, name="weight", amount=0.4)
print(dict(new_model.named_buffers()).keys())

global_model = LeNet()
parameters_to_prune = (
    (global_model.conv1, "weight"),
    (global_model.conv2, "weight"),
    (global_model.fc1, "weight"),
    (global_model.fc2, "weight"),
    (global_model.fc3, "weight"),
)
prune.global_unstructured(parameters_to_prune, pruning_method=prune.L1Unstructured, amount=0.2)
for submodule, _ in parameters_to_prune:
    print(f"Sparsity: {100.0 * float(torch.sum(submodule.weight == 0)) / float(submodule.weight.nelement()):.2f}%")
total = sum(float(torch.sum(m.weight == 0)) for m, _ in parameters_to_prune)
print(f"Global sparsity: {100.0 * total / sum(m.weight.nelement() for m, _ in parameters_to_prune):.2f}%")


class FooBarPruningMethod(prune.BasePruningMethod):
    """Prune every other entry in a tensor."""

    PRUNING_TYPE = "unstructured"

    def compute_mask(self, t, default_mask):
        mask = default_mask.clone()
        mask.view(-1)[::2] = 0
        return mask


def foobar_unstructured(module, name):
    FooBarPruningMethod.apply(module, name)
    return module


custom = LeNet()
foobar_unstructured(custom.fc3, name="bias")
print(custom.fc3.bias_mask)

structured = nn.Linear(4, 6)
prune.random_structured(structured, "weight", amount=2, dim=0)
print(structured.weight_mask)
prune.random_unstructured(structured, "weight", amount=0.25)
print(structured.weight_mask)
prune.identity(structured, "bias")
print(structured.bias_mask)
prune.custom_from_mask(structured, "bias", torch.tensor([1, 0, 1, 0, 1, 1]))
print(structured.bias_mask)
scores = torch.arange(24.0).reshape(6, 4)
scored = nn.Linear(4, 6)
prune.l1_unstructured(scored, "weight", amount=5, importance_scores=scores)
print(scored.weight_mask)
out = structured(torch.ones(2, 4)).sum()
out.backward()
print(structured.weight_orig.grad)
print(prune.L1Unstructured(amount=2).prune(torch.tensor([3.0, -1.0, 0.5, 2.0])))
