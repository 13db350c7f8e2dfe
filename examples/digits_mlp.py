"""Train a multilayer perceptron on scikit-learn's 8×8 digits with retrograd.

    pip install -e ".[examples]"
    python examples/digits_mlp.py

The code is PyTorch's: change `import retrograd` to `import torch` (and `retrograd.utils.data`
to `torch.utils.data`) and it runs there too.
"""

from __future__ import annotations

from digits_common import digit_loaders, parse_arguments, report, train

import retrograd
from retrograd import nn, optim


def main() -> None:
    arguments = parse_arguments(__doc__.splitlines()[0], default_epochs=20)
    retrograd.manual_seed(arguments.seed)
    train_loader, test_loader = digit_loaders(arguments.batch_size, arguments.seed, (64,))
    model = nn.Sequential(
        nn.Linear(64, 256), nn.ReLU(), nn.Dropout(0.2),
        nn.Linear(256, 128), nn.ReLU(), nn.Dropout(0.2),
        nn.Linear(128, 10),
    )
    print(model)
    optimizer = optim.AdamW(model.parameters(), lr=3e-3, weight_decay=1e-4)
    scheduler = optim.lr_scheduler.OneCycleLR(optimizer, max_lr=3e-3, epochs=arguments.epochs,
                                              steps_per_epoch=len(train_loader))
    history = train(model, train_loader, test_loader, optimizer, scheduler, arguments.epochs,
                    progress=not arguments.no_progress, step_scheduler_per_batch=True)
    report("MLP", history, arguments.plot, __file__)


if __name__ == "__main__":
    main()
