"""Train the digits MLP data-parallel: several processes, each on its share of every batch.

    pip install -e ".[examples,distributed]"
    python -m retrograd.distributed.run --nproc-per-node 2 examples/digits_ddp.py
    mpiexec -n 2 python examples/digits_ddp.py          # the same, with MPI's own launcher

The model, optimiser and schedule are digits_mlp.py's. The global batch (32 by default) is
split between the processes; `DistributedSampler` gives each its own part of every epoch,
and `DistributedDataParallel` averages the gradients during backward, so every process takes
the same step a single process would on the whole batch. Rank 0 reports and plots.
The code is PyTorch's: `import torch` in place of `import retrograd` runs it with torchrun.
"""

from __future__ import annotations

import time

from digits_common import digit_loaders, evaluate, parse_arguments, report

import retrograd
import retrograd.distributed as dist
from retrograd import nn, optim
from retrograd.nn.parallel import DistributedDataParallel
from retrograd.utils.data import DataLoader, DistributedSampler


def main() -> None:
    arguments = parse_arguments(__doc__.splitlines()[0], default_epochs=20)
    dist.init_process_group(backend="mpi")
    rank, world_size = dist.get_rank(), dist.get_world_size()
    if arguments.batch_size % world_size:
        raise SystemExit(f"--batch-size {arguments.batch_size} must divide among {world_size} processes")
    retrograd.manual_seed(arguments.seed)
    train_loader, test_loader = digit_loaders(arguments.batch_size, arguments.seed, (64,))
    sampler = DistributedSampler(train_loader.dataset, num_replicas=world_size, rank=rank,
                                 shuffle=True, seed=arguments.seed)
    local_loader = DataLoader(train_loader.dataset, batch_size=arguments.batch_size // world_size,
                              sampler=sampler)
    model = nn.Sequential(
        nn.Linear(64, 256), nn.ReLU(), nn.Dropout(0.2),
        nn.Linear(256, 128), nn.ReLU(), nn.Dropout(0.2),
        nn.Linear(128, 10),
    )
    model = DistributedDataParallel(model)  # rank 0's initial weights go to every rank
    retrograd.manual_seed(arguments.seed + 1 + rank)  # each rank its own dropout masks
    if rank == 0:
        print(model)
        print(f"{world_size} processes, {arguments.batch_size // world_size} examples each per step")
    optimizer = optim.AdamW(model.parameters(), lr=3e-3, weight_decay=1e-4)
    scheduler = optim.lr_scheduler.OneCycleLR(optimizer, max_lr=3e-3, epochs=arguments.epochs,
                                              steps_per_epoch=len(local_loader))
    loss_function = nn.CrossEntropyLoss()
    history = {"train_loss": [], "test_loss": [], "test_accuracy": [], "seconds": []}
    for epoch in range(1, arguments.epochs + 1):
        started = time.perf_counter()
        sampler.set_epoch(epoch)  # a new order each epoch, the same on every rank
        model.train()
        running = retrograd.zeros(2, dtype=retrograd.float64)  # (sum of losses, examples)
        for images, labels in local_loader:
            optimizer.zero_grad()
            loss = loss_function(model(images), labels)
            loss.backward()
            optimizer.step()
            scheduler.step()
            running += retrograd.tensor([loss.item() * len(labels), len(labels)], dtype=retrograd.float64)
        dist.all_reduce(running)  # the training loss over every rank's examples
        test_loss, accuracy = evaluate(model, test_loader, loss_function)
        seconds = time.perf_counter() - started
        train_loss = (running[0] / running[1]).item()
        for key, value in (("train_loss", train_loss), ("test_loss", test_loss),
                           ("test_accuracy", accuracy), ("seconds", seconds)):
            history[key].append(value)
        if rank == 0:
            print(f"epoch {epoch:2d}: train loss {train_loss:.4f}  test loss {test_loss:.4f}  "
                  f"test accuracy {accuracy:.2%}  ({seconds:.2f} s)")
    if rank == 0:
        report(f"MLP, DDP on {world_size} processes", history, arguments.plot, __file__)
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
