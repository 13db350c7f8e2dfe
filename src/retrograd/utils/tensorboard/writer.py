"""SummaryWriter and FileWriter: PyTorch's TensorBoard logging API over tensorboard's event files.

A `FileWriter` owns one event file (tensorboard's `EventFileWriter`, which queues events and
writes them from a thread). A `SummaryWriter` owns the file of its `log_dir` and, for
`add_scalars`, one more per plotted series, in the sub-directories PyTorch uses, so a run
logged here looks in TensorBoard as the same run logged with PyTorch.
"""

from __future__ import annotations

import os
import socket
import time
from datetime import datetime

from tensorboard.compat.proto.config_pb2 import RunMetadata
from tensorboard.compat.proto.event_pb2 import Event, SessionLog, TaggedRunMetadata
from tensorboard.compat.proto.step_stats_pb2 import DeviceStepStats, StepStats
from tensorboard.summary.writer.event_file_writer import EventFileWriter

from . import summary as _summary
from ._embedding import EmbeddingLog
from ._graph import autograd_graph

__all__ = ["FileWriter", "SummaryWriter"]


class FileWriter:
    """Writes `Event` protocol buffers to one new event file in `log_dir`, asynchronously."""

    def __init__(self, log_dir, max_queue: int = 10, flush_secs: float = 120, filename_suffix: str = ""):
        self.event_writer = EventFileWriter(str(log_dir), max_queue, flush_secs, filename_suffix)

    def get_logdir(self) -> str:
        """The directory of the event file."""
        return self.event_writer.get_logdir()

    def add_event(self, event: Event, step=None, walltime: float | None = None) -> None:
        """Stamp `event` with the wall time (now unless given) and step, and queue it."""
        event.wall_time = time.time() if walltime is None else walltime
        if step is not None:
            event.step = int(step)
        self.event_writer.add_event(event)

    def add_summary(self, summary, global_step=None, walltime: float | None = None) -> None:
        """Queue a `Summary` inside an `Event`."""
        self.add_event(Event(summary=summary), global_step, walltime)

    def add_graph(self, graph_def, walltime: float | None = None) -> None:
        """Queue a `GraphDef` for TensorBoard's graph tab."""
        self.add_event(Event(graph_def=graph_def.SerializeToString()), None, walltime)

    def add_run_metadata(self, run_metadata, tag: str, global_step: int | None = None,
                         walltime: float | None = None) -> None:
        """Queue a `RunMetadata` under `tag` (the graph tab's "Session runs" menu)."""
        tagged = TaggedRunMetadata(tag=tag, run_metadata=run_metadata.SerializeToString())
        self.add_event(Event(tagged_run_metadata=tagged), global_step, walltime)

    def flush(self) -> None:
        """Write every queued event to disk."""
        self.event_writer.flush()

    def close(self) -> None:
        """Flush and close the file."""
        self.event_writer.close()

    def reopen(self) -> None:
        """After `close`, write on into a new event file in the same directory."""
        self.event_writer.reopen()


def _default_log_dir(comment: str) -> str:
    """runs/<Mon>DD_HH-MM-SS_<hostname><comment>, PyTorch's default run directory."""
    now = datetime.now().strftime("%b%d_%H-%M-%S")
    return os.path.join("runs", now + "_" + socket.gethostname() + comment)


class SummaryWriter:
    """Logs scalars, histograms, images, text, hyperparameters, embeddings and graphs for TensorBoard.

    `SummaryWriter()` writes to `runs/<date>_<hostname><comment>`; pass `log_dir` to choose.
    `purge_step` hides, when the run is resumed at that step, the events logged at and after
    it before a crash. Events are queued (`max_queue`) and written every `flush_secs`, at
    `flush()` and at `close()` (or when a `with` block ends).
    """

    def __init__(
        self,
        log_dir=None,
        comment: str = "",
        purge_step: int | None = None,
        max_queue: int = 10,
        flush_secs: float = 120,
        filename_suffix: str = "",
    ):
        self.log_dir = log_dir if log_dir else _default_log_dir(comment)
        self.purge_step = purge_step
        self.max_queue = max_queue
        self.flush_secs = flush_secs
        self.filename_suffix = filename_suffix
        self.file_writer = self.all_writers = None
        self._embeddings = None
        self._get_file_writer()
        self.default_bins = _summary.default_bins()

    def _new_file_writer(self, log_dir) -> FileWriter:
        return FileWriter(log_dir, self.max_queue, self.flush_secs, self.filename_suffix)

    def _get_file_writer(self) -> FileWriter:
        """The writer of `log_dir`, opened again (in a new file) after `close`."""
        if self.file_writer is None or self.all_writers is None:
            self.file_writer = self._new_file_writer(self.log_dir)
            self.all_writers = {self.file_writer.get_logdir(): self.file_writer}
            if self.purge_step is not None:
                self._mark_restart(self.purge_step)
                self.purge_step = None
        return self.file_writer

    def _mark_restart(self, step: int) -> None:
        """Tell TensorBoard the run restarts at `step`: what was logged from there on is stale."""
        self.file_writer.add_event(Event(step=step, file_version="brain.Event:2"))
        self.file_writer.add_event(Event(step=step, session_log=SessionLog(status=SessionLog.START)))

    def get_logdir(self):
        """The directory the event files go to."""
        return self.log_dir

    # -- scalars -------------------------------------------------------------------------------

    def add_scalar(
        self, tag: str, scalar_value, global_step=None, walltime=None, new_style=False, double_precision=False
    ) -> None:
        """Log one number (a Python or NumPy number, or a one-element tensor) at `global_step`."""
        entry = _summary.scalar(tag, scalar_value, new_style=new_style, double_precision=double_precision)
        self._get_file_writer().add_summary(entry, global_step, walltime)

    def add_scalars(self, main_tag: str, tag_scalar_dict: dict, global_step=None, walltime=None) -> None:
        """Log several series in one chart: each goes to its run `<log_dir>/<main_tag>_<tag>`."""
        walltime = time.time() if walltime is None else walltime
        base = self._get_file_writer().get_logdir()
        for tag, value in tag_scalar_dict.items():
            series_dir = base + "/" + main_tag.replace("/", "_") + "_" + tag
            if series_dir not in self.all_writers:
                self.all_writers[series_dir] = self._new_file_writer(series_dir)
            self.all_writers[series_dir].add_summary(_summary.scalar(main_tag, value), global_step, walltime)

    # -- distributions -------------------------------------------------------------------------

    def add_histogram(
        self, tag: str, values, global_step=None, bins="tensorflow", walltime=None, max_bins=None
    ) -> None:
        """Log the distribution of `values`; `bins` is 'tensorflow' (PyTorch's default edges),
        a NumPy rule ('auto', 'fd', ...), a count or the edges."""
        if isinstance(bins, str) and bins == "tensorflow":
            bins = self.default_bins
        entry = _summary.histogram(tag, values, bins, max_bins=max_bins)
        self._get_file_writer().add_summary(entry, global_step, walltime)

    def add_histogram_raw(
        self, tag, min, max, num, sum, sum_squares, bucket_limits, bucket_counts,
        global_step=None, walltime=None,
    ) -> None:
        """Log a histogram given by its statistics and its buckets' upper edges and counts."""
        if len(bucket_limits) != len(bucket_counts):
            raise ValueError("len(bucket_limits) != len(bucket_counts), see the document.")
        entry = _summary.histogram_raw(tag, min, max, num, sum, sum_squares, bucket_limits, bucket_counts)
        self._get_file_writer().add_summary(entry, global_step, walltime)

    # -- images --------------------------------------------------------------------------------

    def add_image(
        self, tag: str, img_tensor, global_step=None, walltime=None, dataformats: str = "CHW"
    ) -> None:
        """Log an image: floats in [0, 1] or uint8 in [0, 255], laid out as `dataformats`."""
        entry = _summary.image(tag, img_tensor, dataformats=dataformats)
        self._get_file_writer().add_summary(entry, global_step, walltime)

    def add_images(
        self, tag: str, img_tensor, global_step=None, walltime=None, dataformats: str = "NCHW"
    ) -> None:
        """Log a batch of images, tiled 8 to a row into one picture."""
        entry = _summary.image(tag, img_tensor, dataformats=dataformats)
        self._get_file_writer().add_summary(entry, global_step, walltime)

    def add_figure(self, tag: str, figure, global_step=None, close: bool = True, walltime=None) -> None:
        """Log a matplotlib figure (or a list of them, tiled) as an image; `close` closes it."""
        layout = "NCHW" if isinstance(figure, list) else "CHW"
        pixels = _summary.figures_to_image(figure, close)
        self.add_image(tag, pixels, global_step, walltime, dataformats=layout)

    # -- text, hyperparameters, embeddings, graphs ---------------------------------------------

    def add_text(self, tag: str, text_string: str, global_step=None, walltime=None) -> None:
        """Log a (Markdown) string for the text tab."""
        self._get_file_writer().add_summary(_summary.text(tag, text_string), global_step, walltime)

    def add_hparams(
        self, hparam_dict: dict, metric_dict: dict, hparam_domain_discrete=None, run_name=None,
        global_step=None,
    ) -> None:
        """Log one trial's hyperparameters and final metrics for the hparams tab, in the sub-run
        `run_name` (the current time when not given) of this writer's directory."""
        if type(hparam_dict) is not dict or type(metric_dict) is not dict:
            raise TypeError("hparam_dict and metric_dict should be dictionary.")
        summaries = _summary.hparams(hparam_dict, metric_dict, hparam_domain_discrete)
        run_dir = os.path.join(self._get_file_writer().get_logdir(), run_name or str(time.time()))
        with SummaryWriter(log_dir=run_dir) as run_writer:
            for entry in summaries:
                run_writer.file_writer.add_summary(entry, global_step)
            for name, value in metric_dict.items():
                run_writer.add_scalar(name, value, global_step)

    def add_embedding(
        self, mat, metadata=None, label_img=None, global_step=None, tag: str = "default", metadata_header=None
    ) -> None:
        """Save points (one row of `mat` each), their labels and thumbnails for the projector tab."""
        if self._embeddings is None:
            self._embeddings = EmbeddingLog(self._get_file_writer().get_logdir())
        self._embeddings.add(mat, metadata, label_img, global_step, tag, metadata_header)

    def add_graph(
        self, model, input_to_model=None, verbose: bool = False, use_strict_trace: bool = True
    ) -> None:
        """Log the graph of one forward pass of `model` on `input_to_model`, with a "step1"
        run (CPU) as PyTorch logs one.

        PyTorch traces the forward pass with TorchScript; retrograd draws what the pass
        records for autograd, in the forward direction and in the scope of the module call
        that ran each op (see `_graph.py`): op nodes carry autograd's names (`AddmmBackward0`),
        inputs, outputs and parameters PyTorch's (`input/x`, `output/output.1`,
        `Net/Linear[fc]/weight`). `use_strict_trace` is accepted and has no effect.
        """
        graph_def = autograd_graph(model, input_to_model, verbose=verbose)
        writer = self._get_file_writer()
        writer.add_graph(graph_def)
        device_stats = DeviceStepStats(device="/device:CPU:0")
        writer.add_run_metadata(RunMetadata(step_stats=StepStats(dev_stats=[device_stats])), "step1")

    # -- lifetime ------------------------------------------------------------------------------

    def flush(self) -> None:
        """Write every queued event of every file to disk."""
        for writer in (self.all_writers or {}).values():
            writer.flush()

    def close(self) -> None:
        """Flush and close every file; a later `add_*` opens a new one. Closing twice is allowed."""
        if self.all_writers is None:
            return
        for writer in self.all_writers.values():
            writer.flush()
            writer.close()
        self.file_writer = self.all_writers = None

    def __enter__(self) -> SummaryWriter:
        return self

    def __exit__(self, exc_type, exc_value, traceback) -> None:
        self.close()
