"""What both digits examples share: the data, the training loop, the report and the plot.

The 8×8 handwritten digits ship inside scikit-learn (1,797 images, no download). Pixels are
scaled to [0, 1]; 20% of the images, chosen with a seeded generator, are held out for testing.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import retrograd
from retrograd import nn
from retrograd.utils.data import DataLoader, TensorDataset, random_split

# Where the examples write their pictures by default (ignored by git).
OUTPUT = Path(__file__).resolve().parent / "output"


def parse_arguments(description: str, default_epochs: int) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--epochs", type=int, default=default_epochs)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--plot", type=Path, default=None,
                        help="where to write the PNG of the curves "
                             "(default: examples/output/<script name>.png)")
    parser.add_argument("--no-progress", action="store_true", help="hide the per-epoch progress bars")
    parser.add_argument("--threads", type=int, default=1,
                        help="BLAS threads (default 1: these matrices are small, and extra threads "
                             "only contend for the cores)")
    arguments = parser.parse_args()
    limit_blas_threads(arguments.threads)
    return arguments


def limit_blas_threads(threads: int) -> None:
    """Cap NumPy's BLAS thread pool. For matrices this small a multi-threaded BLAS spends more time
    waking and synchronising threads than multiplying, and on a busy machine far more."""
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=threads, user_api="blas")


def digit_loaders(batch_size: int, seed: int, image_shape: tuple[int, ...]):
    """Training and test loaders over the digits, each image reshaped to `image_shape`."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    images = retrograd.tensor(digits.data / 16.0, dtype=retrograd.float32).reshape(-1, *image_shape)
    labels = retrograd.tensor(digits.target)
    dataset = TensorDataset(images, labels)
    train_set, test_set = random_split(dataset, [0.8, 0.2], generator=retrograd.Generator().manual_seed(seed))
    train_loader = DataLoader(train_set, batch_size=batch_size, shuffle=True,
                              generator=retrograd.Generator().manual_seed(seed + 1))
    test_loader = DataLoader(test_set, batch_size=256)
    return train_loader, test_loader


def evaluate(model: nn.Module, loader: DataLoader, loss_function: nn.Module) -> tuple[float, float]:
    """(mean loss, accuracy) of `model` on every batch of `loader`, in eval mode without grad."""
    model.eval()
    total_loss, correct, count = 0.0, 0, 0
    with retrograd.no_grad():
        for images, labels in loader:
            logits = model(images)
            total_loss += loss_function(logits, labels).item() * len(labels)
            correct += int((logits.argmax(dim=1) == labels).sum().item())
            count += len(labels)
    return total_loss / count, correct / count


def train(model, train_loader, test_loader, optimizer, scheduler, epochs: int, progress: bool,
          step_scheduler_per_batch: bool) -> dict:
    """The usual loop; returns the per-epoch history (losses, accuracies, seconds)."""
    from tqdm import tqdm

    loss_function = nn.CrossEntropyLoss()
    history = {"train_loss": [], "test_loss": [], "test_accuracy": [], "seconds": []}
    for epoch in range(1, epochs + 1):
        started = time.perf_counter()
        model.train()
        running, seen = 0.0, 0
        # mininterval=0 redraws after every batch: an epoch takes a fraction of a second, and
        # with tqdm's default 0.1 s throttle the bar was cleared before it ever moved.
        batches = tqdm(train_loader, desc=f"epoch {epoch:2d}/{epochs}", leave=False,
                       disable=not progress, mininterval=0)
        for images, labels in batches:
            optimizer.zero_grad()
            loss = loss_function(model(images), labels)
            loss.backward()
            optimizer.step()
            if step_scheduler_per_batch:
                scheduler.step()
            running += loss.item() * len(labels)
            seen += len(labels)
            # refresh=False: the postfix is drawn with the count on the bar's own redraw.
            batches.set_postfix(loss=f"{running / seen:.4f}", refresh=False)
        if not step_scheduler_per_batch:
            scheduler.step()
        test_loss, accuracy = evaluate(model, test_loader, loss_function)
        seconds = time.perf_counter() - started
        for key, value in (("train_loss", running / seen), ("test_loss", test_loss),
                           ("test_accuracy", accuracy), ("seconds", seconds)):
            history[key].append(value)
        print(f"epoch {epoch:2d}: train loss {running / seen:.4f}  test loss {test_loss:.4f}  "
              f"test accuracy {accuracy:.2%}  ({seconds:.2f} s)")
    return history


def report(name: str, history: dict, plot_path: Path | None, script: str) -> None:
    """Print the final accuracy and timing, and save the curves as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    total = sum(history["seconds"])
    epochs = len(history["seconds"])
    print(f"{name}: final test accuracy {history['test_accuracy'][-1]:.2%} after {epochs} epochs in "
          f"{total:.1f} s ({total / epochs:.2f} s per epoch)")
    if plot_path is None:
        plot_path = OUTPUT / (Path(script).stem + ".png")
    plot_path.parent.mkdir(parents=True, exist_ok=True)
    epochs = range(1, epochs + 1)
    figure, (loss_axes, accuracy_axes) = plt.subplots(1, 2, figsize=(10, 4))
    loss_axes.plot(epochs, history["train_loss"], label="train")
    loss_axes.plot(epochs, history["test_loss"], label="test")
    loss_axes.set(xlabel="epoch", ylabel="cross-entropy loss", title=f"{name}: loss")
    loss_axes.legend()
    accuracy_axes.plot(epochs, [100 * value for value in history["test_accuracy"]])
    accuracy_axes.set(xlabel="epoch", ylabel="test accuracy (%)", title=f"{name}: test accuracy")
    figure.tight_layout()
    figure.savefig(plot_path, dpi=100)
    print(f"curves saved to {plot_path}")
