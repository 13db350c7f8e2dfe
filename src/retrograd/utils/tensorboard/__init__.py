"""`retrograd.utils.tensorboard`: logging for TensorBoard with PyTorch's `SummaryWriter` API.

    from retrograd.utils.tensorboard import SummaryWriter   # as torch.utils.tensorboard
    with SummaryWriter("runs/exp1") as writer:
        for step in range(100):
            writer.add_scalar("loss", loss.item(), step)

The event files, their records and the summaries inside them are the `tensorboard`
package's own (its event-file writer and protocol buffers), so TensorBoard reads what this
module writes exactly as it reads PyTorch's. Needs `pip install 'retrograd[tensorboard]'`
(tensorboard, and pillow for images), as PyTorch's needs the tensorboard package.
"""

import re

try:
    import tensorboard as _tensorboard
except ImportError:
    raise ImportError(
        "TensorBoard logging requires TensorBoard: the tensorboard package is not installed "
        "(pip install tensorboard, or pip install 'retrograd[tensorboard]')"
    ) from None

_OLDEST = (1, 15)


def _release(version: str) -> tuple[int, ...]:
    """The leading numbers of a version string: '2.21.0rc1' -> (2, 21, 0)."""
    return tuple(int(number) for number in re.findall(r"\d+", version.split("rc")[0])[:3])


if _release(getattr(_tensorboard, "__version__", "0")) < _OLDEST:
    raise ImportError("TensorBoard logging requires TensorBoard version 1.15 or above")

from tensorboard.summary.writer.record_writer import RecordWriter  # noqa: E402

from .writer import FileWriter, SummaryWriter  # noqa: E402

__all__ = ["FileWriter", "RecordWriter", "SummaryWriter"]
