"""Train a small convolutional network on scikit-learn's 8×8 digits with retrograd.

    pip install -e ".[examples]"
    python examples/digits_cnn.py

The code is PyTorch's: change `import retrograd` to `import torch` (and `retrograd.utils.data`
to `torch.utils.data`) and it runs there too.
"""

from __future__ import annotations

from digits_common import digit_loaders, parse_arguments, report, train

import retrograd
from retrograd import nn, optim


def main() -> None:
    arguments = parse_arguments(__doc__.splitlines()[0], default_epochs=12)
    retrograd.manual_seed(arguments.seed)
    train_loader, test_loader = digit_loaders(arguments.batch_size, arguments.seed, (1, 8, 8))
    model = nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(),
        nn.Conv2d(16, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Dropout(0.25),
        nn.Linear(32 * 4 * 4, 128), nn.ReLU(),
        nn.Linear(128, 10),
    )
    print(model)
    optimizer = optim.Adam(model.parameters(), lr=2e-3)
    scheduler = optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=arguments.epochs)
    history = train(model, train_loader, test_loader, optimizer, scheduler, arguments.epochs,
                    progress=not arguments.no_progress, step_scheduler_per_batch=False)
    report("CNN", history, arguments.plot, __file__)


if __name__ == "__main__":
    main()
