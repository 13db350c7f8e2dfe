"""retrograd.utils.tensorboard: what SummaryWriter writes, read back with tensorboard's own readers.

Every test reads the event files through tensorboard (EventAccumulator, EventFileLoader), so
what is checked is what TensorBoard shows. Where PyTorch is installed, the same calls made
with `torch.utils.tensorboard` must give the same events (all but the wall time) and the
same projector files. Needs the `tensorboard` package (the `tensorboard` extra); the module
is skipped with that reason without it.
"""

from __future__ import annotations

import filecmp
import glob
import io
import os
import re
import subprocess
import sys

import numpy as np
import pytest

import retrograd as rg
from crosscheck import needs_torch

pytest.importorskip("tensorboard", reason="the tensorboard package is not installed (pip install tensorboard)")

from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
from tensorboard.backend.event_processing.event_file_loader import EventFileLoader
from tensorboard.plugins.hparams import plugin_data_pb2

from retrograd.utils.tensorboard import SummaryWriter


def _accumulator(log_dir) -> EventAccumulator:
    accumulator = EventAccumulator(str(log_dir), size_guidance={"images": 0, "tensors": 0, "histograms": 0})
    accumulator.Reload()
    return accumulator


def _event_files(root) -> dict[str, list]:
    """Every event of every file under `root`, by directory relative to it, wall time zeroed."""
    found = {}
    for path in sorted(glob.glob(os.path.join(str(root), "**", "events.out.tfevents.*"), recursive=True)):
        events = []
        for event in EventFileLoader(path).Load():
            event.wall_time = 0
            _normalise_hparams(event)
            events.append(event)
        found.setdefault(os.path.relpath(os.path.dirname(path), str(root)), []).extend(events)
    return found


def _normalise_hparams(event) -> None:
    """hparams content holds a protobuf map, serialized in no fixed order: re-serialize it sorted."""
    for value in event.summary.value:
        if value.metadata.plugin_data.plugin_name == "hparams":
            content = plugin_data_pb2.HParamsPluginData.FromString(value.metadata.plugin_data.content)
            value.metadata.plugin_data.content = content.SerializeToString(deterministic=True)


def _png_pixels(encoded: bytes) -> np.ndarray:
    from PIL import Image

    return np.asarray(Image.open(io.BytesIO(encoded)))


# ---------------------------------------------------------------------------
# Scalars


def test_scalars_read_back_with_their_tags_steps_and_values(tmp_path):
    with SummaryWriter(tmp_path) as writer:
        for step in range(4):
            writer.add_scalar("loss", 1.0 / (step + 1), step)
            writer.add_scalar("train/acc", rg.tensor(0.25 * step), global_step=10 * step)
    accumulator = _accumulator(tmp_path)
    assert set(accumulator.Tags()["scalars"]) == {"loss", "train/acc"}
    loss = accumulator.Scalars("loss")
    assert [event.step for event in loss] == [0, 1, 2, 3]
    np.testing.assert_allclose([event.value for event in loss], [1, 1 / 2, 1 / 3, 1 / 4], rtol=1e-7)
    acc = accumulator.Scalars("train/acc")
    assert [(event.step, event.value) for event in acc] == [(0, 0.0), (10, 0.25), (20, 0.5), (30, 0.75)]


def test_a_scalar_must_have_one_element(tmp_path):
    with SummaryWriter(tmp_path) as writer, pytest.raises(AssertionError, match="one element"):
        writer.add_scalar("x", rg.tensor([1.0, 2.0]))


def test_add_scalars_writes_one_run_per_series_under_the_main_tag(tmp_path):
    with SummaryWriter(tmp_path) as writer:
        for step in range(3):
            writer.add_scalars("run/14h", {"sin": float(np.sin(step)), "cos": rg.tensor(np.cos(step))}, step)
    for series, function in (("sin", np.sin), ("cos", np.cos)):
        events = _accumulator(tmp_path / f"run_14h_{series}").Scalars("run/14h")
        assert [event.step for event in events] == [0, 1, 2]
        np.testing.assert_allclose([event.value for event in events], function(np.arange(3)), rtol=1e-6)


# ---------------------------------------------------------------------------
# Histograms


def test_histogram_keeps_the_statistics_and_every_value(tmp_path):
    values = np.linspace(-3.0, 3.0, 101)
    with SummaryWriter(tmp_path) as writer:
        writer.add_histogram("weights", rg.tensor(values), 7)
    (event,) = _accumulator(tmp_path).Histograms("weights")
    histogram = event.histogram_value
    assert event.step == 7
    assert (histogram.min, histogram.max, histogram.num) == (-3.0, 3.0, 101)
    assert histogram.sum == pytest.approx(values.sum(), abs=1e-12)
    assert histogram.sum_squares == pytest.approx(values @ values)
    assert sum(histogram.bucket) == 101
    assert list(histogram.bucket_limit) == sorted(histogram.bucket_limit)
    assert histogram.bucket[0] == 0 and histogram.bucket[-1] > 0


def test_max_bins_merges_neighbouring_buckets_in_groups(tmp_path):
    # As PyTorch: 20 buckets, max_bins=6 -> groups of 20 // 6 = 3 buckets (the last one short),
    # after one empty bucket at the left edge.
    with SummaryWriter(tmp_path) as writer:
        writer.add_histogram("h", np.arange(100.0), 1, bins=20, max_bins=6)
    (event,) = _accumulator(tmp_path).Histograms("h")
    assert list(event.histogram_value.bucket) == [0, 15, 15, 15, 15, 15, 15, 10]
    np.testing.assert_allclose(event.histogram_value.bucket_limit, [0, *(99 / 20 * np.arange(3, 20, 3)), 99])


def test_histogram_of_nothing_is_refused(tmp_path):
    with SummaryWriter(tmp_path) as writer, pytest.raises(ValueError, match="no element"):
        writer.add_histogram("h", np.array([]))


# ---------------------------------------------------------------------------
# Images


@pytest.mark.parametrize(
    ("layout", "to_layout"),
    [("CHW", lambda hwc: hwc.transpose(2, 0, 1)), ("HWC", lambda hwc: hwc), ("WHC", lambda hwc: hwc.transpose(1, 0, 2))],
)
def test_image_layouts_give_the_same_pixels(tmp_path, layout, to_layout):
    hwc = np.random.default_rng(0).random((4, 5, 3))
    with SummaryWriter(tmp_path) as writer:
        writer.add_image("picture", to_layout(hwc), 3, dataformats=layout)
    (event,) = _accumulator(tmp_path).Images("picture")
    assert (event.step, event.height, event.width) == (3, 4, 5)
    np.testing.assert_array_equal(_png_pixels(event.encoded_image_string), (hwc * 255).astype(np.uint8))


def test_a_grey_image_gets_three_equal_channels_and_uint8_is_not_scaled(tmp_path):
    grey = np.arange(20, dtype=np.uint8).reshape(4, 5) * 10
    with SummaryWriter(tmp_path) as writer:
        writer.add_image("grey", grey, dataformats="HW")
    pixels = _png_pixels(_accumulator(tmp_path).Images("grey")[0].encoded_image_string)
    np.testing.assert_array_equal(pixels, np.stack([grey] * 3, axis=2))


def test_add_images_tiles_the_batch_eight_to_a_row(tmp_path):
    batch = np.random.default_rng(1).random((10, 3, 2, 3))
    with SummaryWriter(tmp_path) as writer:
        writer.add_images("batch", rg.tensor(batch))
    (event,) = _accumulator(tmp_path).Images("batch")
    pixels = _png_pixels(event.encoded_image_string)
    assert pixels.shape == (2 * 2, 8 * 3, 3)
    expected_ninth = (batch[8].transpose(1, 2, 0) * 255).astype(np.uint8)
    np.testing.assert_array_equal(pixels[2:4, 0:3], expected_ninth)
    np.testing.assert_array_equal(pixels[2:4, 6:], 0)


def test_image_layout_must_match_the_array(tmp_path):
    with SummaryWriter(tmp_path) as writer:
        with pytest.raises(AssertionError, match="size of input tensor and input format are different"):
            writer.add_image("bad", np.zeros((4, 5)), dataformats="CHW")
        with pytest.raises(AssertionError, match="same dimension shorthand twice"):
            writer.add_image("bad", np.zeros((4, 5, 3)), dataformats="HHC")


def test_add_figure_logs_the_rendered_figure(tmp_path):
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure = plt.figure(figsize=(2, 1), dpi=50)
    plt.plot([0, 1], [1, 0])
    with SummaryWriter(tmp_path) as writer:
        writer.add_figure("plot", figure, 5)
    (event,) = _accumulator(tmp_path).Images("plot")
    assert (event.step, event.width, event.height) == (5, 100, 50)
    assert not plt.fignum_exists(figure.number)


# ---------------------------------------------------------------------------
# Text, hyperparameters, embeddings, graphs


def test_text_is_stored_for_the_text_plugin(tmp_path):
    with SummaryWriter(tmp_path) as writer:
        writer.add_text("notes", "lr **0.1** ✓", 2)
    accumulator = _accumulator(tmp_path)
    (event,) = accumulator.Tensors("notes/text_summary")
    assert event.step == 2
    assert event.tensor_proto.string_val == ["lr **0.1** ✓".encode()]
    assert accumulator.SummaryMetadata("notes/text_summary").plugin_data.plugin_name == "text"


def test_hparams_go_to_a_sub_run_with_the_metrics(tmp_path):
    with SummaryWriter(tmp_path) as writer:
        writer.add_hparams({"lr": 0.1, "optimizer": "sgd", "skip": None}, {"hp/accuracy": 0.75}, run_name="trial1")
    accumulator = _accumulator(tmp_path / "trial1")
    metadata = accumulator.SummaryMetadata("_hparams_/session_start_info")
    start = plugin_data_pb2.HParamsPluginData.FromString(metadata.plugin_data.content).session_start_info
    assert start.hparams["lr"].number_value == 0.1
    assert start.hparams["optimizer"].string_value == "sgd"
    assert "skip" not in start.hparams
    experiment_metadata = accumulator.SummaryMetadata("_hparams_/experiment")
    experiment = plugin_data_pb2.HParamsPluginData.FromString(experiment_metadata.plugin_data.content).experiment
    assert [info.name for info in experiment.hparam_infos] == ["lr", "optimizer"]
    assert [info.name.tag for info in experiment.metric_infos] == ["hp/accuracy"]
    assert [event.value for event in accumulator.Scalars("hp/accuracy")] == [0.75]


def test_hparams_refuse_what_tensorboard_cannot_show(tmp_path):
    with SummaryWriter(tmp_path) as writer:
        with pytest.raises(TypeError, match="should be dictionary"):
            writer.add_hparams([("lr", 0.1)], {})
        with pytest.raises(ValueError, match="int, float, str, bool"):
            writer.add_hparams({"layers": [1, 2]}, {}, run_name="r")
        with pytest.raises(TypeError, match="hparam_domain_discrete"):
            writer.add_hparams({"lr": 0.1}, {}, hparam_domain_discrete={"lr": ["high"]}, run_name="r")
    assert not (tmp_path / "r").exists()


def test_add_embedding_writes_the_projector_files(tmp_path):
    points = rg.tensor([[1.0, 2.0], [3.0, 4.5], [5.0, 6.0]])
    with SummaryWriter(tmp_path) as writer:
        writer.add_embedding(points, metadata=["a", "b", "c"], global_step=3, tag="words/v1")
    folder = tmp_path / "00003" / "words%2fv1"
    assert (folder / "tensors.tsv").read_text() == "1.0\t2.0\n3.0\t4.5\n5.0\t6.0\n"
    assert (folder / "metadata.tsv").read_text() == "a\nb\nc\n"
    config = (tmp_path / "projector_config.pbtxt").read_text()
    assert 'tensor_name: "words/v1:00003"' in config
    assert 'metadata_path: "00003/words%2fv1/metadata.tsv"' in config


def test_add_embedding_refuses_a_label_count_that_differs(tmp_path):
    with SummaryWriter(tmp_path) as writer, pytest.raises(AssertionError, match="#labels"):
        writer.add_embedding(rg.zeros(3, 2), metadata=["a", "b"])
    assert not (tmp_path / "00000").exists()


def _net(lib):
    """Nested modules, two inputs, an op in the root's own forward and two outputs."""

    class Net(lib.nn.Module):
        def __init__(self):
            super().__init__()
            self.features = lib.nn.Sequential(lib.nn.Linear(3, 4), lib.nn.Tanh())
            self.head = lib.nn.Linear(4, 1)

        def forward(self, x, y):
            return self.head(self.features(x) * y), x.sum()

    return Net()


def _graph_nodes(log_dir) -> dict:
    return {node.name: node for node in _accumulator(log_dir).Graph().node}


def _shape(node) -> list[int]:
    return [dim.size for dim in node.attr["_output_shapes"].list.shape[0].dim]


def test_add_graph_logs_one_forward_in_module_scopes(tmp_path):
    model = rg.nn.Sequential(rg.nn.Linear(3, 4), rg.nn.ReLU(), rg.nn.Linear(4, 2))
    with SummaryWriter(tmp_path) as writer:
        writer.add_graph(model, rg.randn(5, 3))
    nodes = _graph_nodes(tmp_path)
    assert nodes["input/input"].op == "IO Node" and _shape(nodes["input/input"]) == [5, 3]
    assert nodes["Sequential/Linear[0]/weight"].op == "prim::GetAttr"
    first = next(node for node in nodes.values() if node.op == "AddmmBackward0" and "input/input" in node.input)
    assert first.name.startswith("Sequential/Linear[0]/") and "Sequential/Linear[0]/bias" in first.input
    assert _shape(first) == [5, 4]
    relu = next(node for node in nodes.values() if node.op == "ReluBackward0")
    assert relu.name.startswith("Sequential/ReLU[1]/") and list(relu.input) == [first.name]
    output = nodes["output/output.1"]
    assert output.op == "IO Node" and _shape(output) == [5, 2]
    assert nodes[output.input[0]].name.startswith("Sequential/Linear[2]/")


def test_add_graph_names_inputs_by_forward_and_outputs_in_order(tmp_path):
    with SummaryWriter(tmp_path) as writer:
        writer.add_graph(_net(rg), (rg.randn(5, 3), rg.randn(5, 4)))
    nodes = _graph_nodes(tmp_path)
    assert _shape(nodes["input/x"]) == [5, 3] and _shape(nodes["input/y"]) == [5, 4]
    product = next(node for node in nodes.values() if node.op == "MulBackward0")
    assert product.name.startswith("Net/MulBackward0") and "input/y" in product.input
    assert nodes[nodes["output/output.1"].input[0]].name.startswith("Net/Linear[head]/")
    assert nodes[nodes["output/output.2"].input[0]].op == "SumBackward0"
    assert _accumulator(tmp_path).RunMetadata("step1").step_stats.dev_stats[0].device == "/device:CPU:0"


def test_add_graph_of_a_deep_model_does_not_recurse(tmp_path):
    class Deep(rg.nn.Module):
        def forward(self, x):
            for _ in range(3000):
                x = x * 1.0
            return x

    with SummaryWriter(tmp_path) as writer:
        writer.add_graph(Deep(), rg.randn(2))
    assert sum(node.op == "MulBackward0" for node in _graph_nodes(tmp_path).values()) == 3000


@needs_torch
@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # PyTorch's own tracer warns about itself
def test_add_graph_scopes_inputs_and_parameters_match_pytorch(tmp_path):
    import torch
    from torch.utils.tensorboard import SummaryWriter as TorchWriter

    with SummaryWriter(tmp_path / "ours") as writer:
        writer.add_graph(_net(rg), (rg.randn(5, 3), rg.randn(5, 4)))
    with TorchWriter(str(tmp_path / "theirs")) as writer:
        writer.add_graph(_net(torch), (torch.randn(5, 3), torch.randn(5, 4)))
    ours, theirs = _graph_nodes(tmp_path / "ours"), _graph_nodes(tmp_path / "theirs")

    def io_shapes(nodes, prefix):
        return {name: _shape(node) for name, node in nodes.items() if name.startswith(prefix)}

    assert io_shapes(ours, "input/") == io_shapes(theirs, "input/")

    def scopes(nodes, ops):
        return {name.rpartition("/")[0] for name, node in nodes.items() if node.op in ops}

    assert scopes(ours, {"AddmmBackward0", "TanhBackward0", "MulBackward0"}) == scopes(
        theirs, {"aten::linear", "aten::tanh", "aten::mul"})
    parameter_scopes = {name.split("/weight/")[0].split("/bias/")[0] for name, node in theirs.items()
                        if node.op == "prim::GetAttr"}
    assert scopes(ours, {"prim::GetAttr"}) == parameter_scopes


# ---------------------------------------------------------------------------
# The writer's files and lifetime


def test_default_log_dir_is_runs_datetime_hostname_comment(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    writer = SummaryWriter(comment="_lr0.1")
    writer.close()
    assert re.fullmatch(r"runs/[A-Z][a-z]{2}\d{2}_\d{2}-\d{2}-\d{2}_.+_lr0\.1", writer.get_logdir())
    assert glob.glob(os.path.join(writer.get_logdir(), "events.out.tfevents.*"))


def test_filename_suffix_ends_the_event_file_name(tmp_path):
    SummaryWriter(tmp_path, filename_suffix=".exp").close()
    (name,) = os.listdir(tmp_path)
    assert name.startswith("events.out.tfevents.") and name.endswith(".exp")


def test_purge_step_marks_a_restart_at_that_step(tmp_path):
    with SummaryWriter(tmp_path, purge_step=7) as writer:
        writer.add_scalar("loss", 1.0, 7)
    (events,) = _event_files(tmp_path).values()
    assert events[1].step == 7 and events[1].file_version == "brain.Event:2"
    assert events[2].step == 7 and events[2].session_log.status == events[2].session_log.START


def test_events_reach_the_disk_at_flush(tmp_path):
    writer = SummaryWriter(tmp_path, max_queue=100, flush_secs=10_000)
    writer.add_scalar("loss", 2.0, 1)
    writer.flush()
    assert [event.value for event in _accumulator(tmp_path).Scalars("loss")] == [2.0]
    writer.close()


def test_close_twice_is_allowed_and_logging_after_close_opens_a_new_file(tmp_path):
    writer = SummaryWriter(tmp_path)
    writer.add_scalar("loss", 1.0, 0)
    writer.close()
    writer.close()
    writer.add_scalar("loss", 0.5, 1)
    writer.close()
    assert len(glob.glob(str(tmp_path / "events.out.tfevents.*"))) == 2
    assert [event.step for event in _accumulator(tmp_path).Scalars("loss")] == [0, 1]


def test_the_with_block_closes_the_writer(tmp_path):
    with SummaryWriter(tmp_path) as writer:
        writer.add_text("t", "x")
    assert writer.all_writers is None and writer.file_writer is None


def test_without_tensorboard_the_import_names_the_package_to_install():
    program = (
        "import sys; sys.modules['tensorboard'] = None\n"
        "try:\n    import retrograd.utils.tensorboard\n"
        "except ImportError as error:\n    print(error)\n"
    )
    source = os.path.join(os.path.dirname(__file__), os.pardir, "src")
    result = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, env={**os.environ, "PYTHONPATH": source}
    )
    assert "TensorBoard logging requires TensorBoard" in result.stdout
    assert "pip install tensorboard" in result.stdout


# ---------------------------------------------------------------------------
# The same events as PyTorch's writer


def _log_a_run(library, writer_class, log_dir) -> None:
    """One run using every kind of entry, written through `library`'s tensors."""
    float32 = library.float32
    with writer_class(str(log_dir), purge_step=3) as writer:
        for step in range(4):
            writer.add_scalar("loss", 1.0 / (step + 1), step)
            writer.add_scalar("lr", library.tensor(0.1 * step), step, new_style=True)
            writer.add_scalars("run", {"a": step, "b": library.tensor(2.0 * step)}, step)
        writer.add_histogram("normal", library.tensor(np.linspace(-3, 3, 101)), 1)
        writer.add_histogram("auto", np.arange(100.0), 1, bins="auto", max_bins=7)
        writer.add_histogram_raw("raw", 0, 3, 4, 6, 14, [1, 2, 3], [1, 1, 2], 1)
        writer.add_image("chw", library.tensor(np.linspace(0, 1, 60).reshape(3, 4, 5)), 2)
        writer.add_image("hwc", np.linspace(0, 1.2, 60).reshape(4, 5, 3), 2, dataformats="HWC")
        writer.add_images("batch", np.linspace(0, 1, 200).reshape(10, 1, 4, 5), 2)
        writer.add_text("note", "hello *world*", 3)
        writer.add_hparams({"lr": 0.1, "bs": 16, "opt": "sgd", "flag": True}, {"hp/acc": 0.9}, run_name="trial")
        label_images = library.tensor(np.linspace(0, 1, 48).reshape(4, 3, 2, 2), dtype=float32)
        writer.add_embedding(
            library.tensor(np.arange(12.0).reshape(4, 3) / 7, dtype=float32),
            metadata=list("abcd"),
            label_img=label_images,
        )
        writer.add_embedding(
            np.eye(2), metadata=[["x", 1], ["y", 2]], metadata_header=["name", "id"], global_step=4, tag="t/2"
        )


@needs_torch
def test_every_event_and_projector_file_is_pytorchs(tmp_path):
    import torch
    from torch.utils.tensorboard import SummaryWriter as TorchSummaryWriter

    _log_a_run(rg, SummaryWriter, tmp_path / "retrograd")
    _log_a_run(torch, TorchSummaryWriter, tmp_path / "torch")
    ours, theirs = _event_files(tmp_path / "retrograd"), _event_files(tmp_path / "torch")
    assert sorted(ours) == sorted(theirs) == [".", "run_a", "run_b", "trial"]
    for run in ours:
        assert ours[run] == theirs[run], run
    projector_files = [
        "projector_config.pbtxt", "00000/default/tensors.tsv", "00000/default/metadata.tsv",
        "00000/default/sprite.png", "00004/t%2f2/tensors.tsv", "00004/t%2f2/metadata.tsv",
    ]
    for name in projector_files:
        assert filecmp.cmp(tmp_path / "retrograd" / name, tmp_path / "torch" / name, shallow=False), name
