"""The `Summary` protocol buffers SummaryWriter writes, built from arrays with tensorboard's protos.

Each builder takes what a user passes (a retrograd Tensor, a NumPy array or a Python number)
and returns a `tensorboard.compat.proto.summary_pb2.Summary` in the form PyTorch's writer
gives TensorBoard: scalars as `simple_value`, histograms as `HistogramProto` with PyTorch's
default bucket edges, images as PNG, text and hyperparameters through their plugins' data.
"""

from __future__ import annotations

import io
import numbers

import numpy as np
from tensorboard.compat.proto.summary_pb2 import HistogramProto, Summary
from tensorboard.compat.proto.tensor_pb2 import TensorProto
from tensorboard.compat.proto.tensor_shape_pb2 import TensorShapeProto
from tensorboard.plugins.hparams import api_pb2, plugin_data_pb2
from tensorboard.plugins.hparams import metadata as hparams_metadata
from tensorboard.plugins.text import metadata as text_metadata

from ..._tensor import Tensor


def to_numpy(value) -> np.ndarray:
    """A Tensor (detached), an array, or a Python/NumPy number (as a 1-element array)."""
    if isinstance(value, np.ndarray):
        return value
    if isinstance(value, Tensor):
        return value.detach().numpy()
    if np.isscalar(value):
        return np.array([value])
    raise NotImplementedError(f"Got {type(value)}, but numpy array or retrograd tensor are expected.")


# ---------------------------------------------------------------------------
# Scalars


def scalar(tag: str, value, new_style: bool = False, double_precision: bool = False) -> Summary:
    """One number: `simple_value` (TensorBoard's classic form) or, new style, a tensor."""
    array = to_numpy(value).squeeze()
    if array.ndim != 0:
        raise AssertionError(
            f"Tensor should contain one element (0 dimensions). Was given size: {array.size} "
            f"and {array.ndim} dimensions."
        )
    number = float(array)
    if not new_style:
        return Summary(value=[Summary.Value(tag=tag, simple_value=number)])
    if double_precision:
        proto = TensorProto(double_val=[number], dtype="DT_DOUBLE")
    else:
        proto = TensorProto(float_val=[number], dtype="DT_FLOAT")
    plugin = Summary.Value(tag=tag, tensor=proto)
    plugin.metadata.plugin_data.plugin_name = "scalars"
    return Summary(value=[plugin])


# ---------------------------------------------------------------------------
# Histograms


def default_bins() -> list[float]:
    """PyTorch's 'tensorflow' bucket edges: ±1e-12·1.1^k up to 1e20, and 0."""
    positive = []
    edge = 1e-12
    while edge < 1e20:
        positive.append(edge)
        edge *= 1.1
    return [-edge for edge in reversed(positive)] + [0] + positive


def _merge_buckets(counts: np.ndarray, limits: np.ndarray, max_bins: int):
    """At most `max_bins` buckets: neighbours summed in groups, the last group padded."""
    group = len(counts) // max_bins
    padded = np.pad(counts, (0, -len(counts) % group))
    merged = padded.reshape(-1, group).sum(axis=-1)
    edges = np.append(limits[:-1:group], limits[-1])
    return merged, edges


def histogram_proto(values, bins, max_bins: int | None = None) -> HistogramProto:
    """Counts in `bins` (edges, a count or a NumPy rule), trimmed to the occupied buckets.

    TensorBoard reads each bucket by its upper edge; an empty bucket whose upper edge is the
    left edge of the first occupied one comes first, so the data's left edge is shown (PyTorch's form).
    """
    flat = to_numpy(values).astype(float).reshape(-1)
    if flat.size == 0:
        raise ValueError("The input has no element.")
    counts, limits = np.histogram(flat, bins=bins)
    if max_bins is not None and len(counts) > max_bins:
        counts, limits = _merge_buckets(counts, limits, max_bins)
    occupied = np.flatnonzero(counts)
    if occupied.size == 0:
        raise ValueError("The histogram is empty: no value lies inside the bins.")
    first, last = int(occupied[0]), int(occupied[-1])
    kept_counts = np.concatenate([[0], counts[first : last + 1]])
    return HistogramProto(
        min=flat.min(),
        max=flat.max(),
        num=len(flat),
        sum=flat.sum(),
        sum_squares=flat.dot(flat),
        bucket_limit=limits[first : last + 2].tolist(),
        bucket=kept_counts.tolist(),
    )


def histogram(tag: str, values, bins, max_bins: int | None = None) -> Summary:
    """A histogram of `values` (any shape)."""
    return Summary(value=[Summary.Value(tag=tag, histo=histogram_proto(values, bins, max_bins))])


def histogram_raw(tag, min, max, num, sum, sum_squares, bucket_limits, bucket_counts) -> Summary:
    """A histogram given by its statistics and buckets."""
    proto = HistogramProto(
        min=min, max=max, num=num, sum=sum, sum_squares=sum_squares,
        bucket_limit=list(bucket_limits), bucket=list(bucket_counts),
    )
    return Summary(value=[Summary.Value(tag=tag, histo=proto)])


# ---------------------------------------------------------------------------
# Images


def image_grid(images: np.ndarray, columns: int = 8) -> np.ndarray:
    """N images (N, C, H, W) with C 1 or 3, tiled row by row into one 3-channel (3, H', W')."""
    if images.shape[1] == 1:
        images = np.concatenate([images] * 3, axis=1)
    if images.ndim != 4 or images.shape[1] != 3:
        raise AssertionError("Input should be a 4D numpy array with 3 channels")
    count, _, height, width = images.shape
    columns = min(count, columns)
    rows = -(-count // columns)
    canvas = np.zeros((3, height * rows, width * columns), dtype=images.dtype)
    for index in range(count):
        row, column = divmod(index, columns)
        canvas[:, row * height : (row + 1) * height, column * width : (column + 1) * width] = images[index]
    return canvas


def to_hwc(array: np.ndarray, dataformats: str) -> np.ndarray:
    """An image in layout `dataformats` (NCHW, CHW, HWC, HW, ... any order) as (H, W, C).

    A batch is tiled into a grid; one channel and the 2-d forms become three grey channels.
    """
    if len(set(dataformats)) != len(dataformats):
        raise AssertionError(
            f"You can not use the same dimension shorthand twice. input_format: {dataformats}"
        )
    if array.ndim != len(dataformats):
        raise AssertionError(
            f"size of input tensor and input format are different. tensor shape: {array.shape}, "
            f"input_format: {dataformats}"
        )
    layout = dataformats.upper()
    if len(layout) == 4:
        grid = image_grid(array.transpose([layout.find(axis) for axis in "NCHW"]))
        return grid.transpose(1, 2, 0)
    if len(layout) == 3:
        hwc = array.transpose([layout.find(axis) for axis in "HWC"])
        return np.concatenate([hwc] * 3, axis=2) if hwc.shape[2] == 1 else hwc
    if len(layout) == 2:
        return np.stack([array.transpose([layout.find(axis) for axis in "HW"])] * 3, axis=2)
    raise AssertionError(f"dataformats should have 2, 3 or 4 letters, got {dataformats!r}")


def to_uint8(hwc: np.ndarray) -> np.ndarray:
    """Pixel bytes: uint8 kept as is, anything else read as [0, 1] and scaled by 255; clipped."""
    scale = 1 if hwc.dtype == np.uint8 else 255
    return (hwc.astype(np.float32) * scale).clip(0, 255).astype(np.uint8)


def _pillow():
    try:
        from PIL import Image
    except ImportError:
        raise ImportError(
            "Images for TensorBoard are encoded as PNG with the pillow package: pip install pillow "
            "(or pip install 'retrograd[tensorboard]')"
        ) from None
    return Image


def png_bytes(pixels: np.ndarray) -> bytes:
    """(H, W, C) uint8 pixels encoded as PNG."""
    buffer = io.BytesIO()
    _pillow().fromarray(pixels).save(buffer, format="PNG")
    return buffer.getvalue()


def _figure_to_chw(figure, close: bool) -> np.ndarray:
    """A matplotlib figure rendered by Agg as (3, H, W) uint8 RGB."""
    import matplotlib.pyplot as plt
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas = FigureCanvasAgg(figure)
    canvas.draw()
    width, height = figure.canvas.get_width_height()
    rgba = np.frombuffer(canvas.buffer_rgba(), dtype=np.uint8).reshape(height, width, 4)
    if close:
        plt.close(figure)
    return np.moveaxis(rgba[:, :, :3], 2, 0)


def figures_to_image(figures, close: bool = True) -> np.ndarray:
    """A figure as (3, H, W), or a list of figures as (N, 3, H, W)."""
    if isinstance(figures, list):
        return np.stack([_figure_to_chw(figure, close) for figure in figures])
    return _figure_to_chw(figures, close)


def image(tag: str, values, dataformats: str = "NCHW") -> Summary:
    """An image (or a batch, tiled) as a PNG `Summary.Image`."""
    pixels = to_uint8(to_hwc(to_numpy(values), dataformats))
    height, width, channels = pixels.shape
    proto = Summary.Image(
        height=height, width=width, colorspace=channels, encoded_image_string=png_bytes(pixels)
    )
    return Summary(value=[Summary.Value(tag=tag, image=proto)])


# ---------------------------------------------------------------------------
# Text and hyperparameters


def text(tag: str, text_string: str) -> Summary:
    """A string for the text plugin, under `<tag>/text_summary`."""
    proto = TensorProto(
        dtype="DT_STRING",
        string_val=[text_string.encode("utf_8")],
        tensor_shape=TensorShapeProto(dim=[TensorShapeProto.Dim(size=1)]),
    )
    metadata = text_metadata.create_summary_metadata(display_name="", description="")
    return Summary(value=[Summary.Value(tag=tag + "/text_summary", metadata=metadata, tensor=proto)])


def _check_discrete_domains(hparam_dict: dict, domains: dict) -> None:
    """Each listed domain names a logged hyperparameter and holds values of its type."""
    if not isinstance(domains, dict):
        raise TypeError("parameter: hparam_domain_discrete should be a dictionary, nothing logged.")
    for name, values in domains.items():
        if (
            name not in hparam_dict
            or not isinstance(values, list)
            or not all(isinstance(value, type(hparam_dict[name])) for value in values)
        ):
            raise TypeError(
                f"parameter: hparam_domain_discrete[{name}] should be a list of same type as "
                f"hparam_dict[{name}]."
            )


def _hparam_entry(name, value, domain, start_info) -> api_pb2.HParamInfo:
    """Record `value` in the session's start info; describe its type (and domain) for the experiment.

    As PyTorch, a bool is an int and so is logged as a number, and a Tensor by its first element.
    """
    from google.protobuf import struct_pb2

    if isinstance(value, Tensor):
        start_info.hparams[name].number_value = to_numpy(value).reshape(-1)[0]
        return api_pb2.HParamInfo(name=name, type=api_pb2.DATA_TYPE_FLOAT64)
    if isinstance(value, numbers.Real):
        start_info.hparams[name].number_value = value
        data_type, field = api_pb2.DATA_TYPE_FLOAT64, "number_value"
    elif isinstance(value, str):
        start_info.hparams[name].string_value = value
        data_type, field = api_pb2.DATA_TYPE_STRING, "string_value"
    else:
        raise ValueError("value should be one of int, float, str, bool, or retrograd.Tensor")
    discrete = None
    if domain is not None:
        discrete = struct_pb2.ListValue(values=[struct_pb2.Value(**{field: item}) for item in domain])
    return api_pb2.HParamInfo(name=name, type=data_type, domain_discrete=discrete)


def _hparams_summary(tag: str, **plugin_data) -> Summary:
    content = plugin_data_pb2.HParamsPluginData(**plugin_data)
    metadata = hparams_metadata.create_summary_metadata(content)
    return Summary(value=[Summary.Value(tag=tag, metadata=metadata)])


def hparams(hparam_dict: dict, metric_dict: dict, hparam_domain_discrete: dict | None = None):
    """The hparams plugin's three summaries: the experiment, the session's start and its end."""
    for name, given in (("hparam_dict", hparam_dict), ("metric_dict", metric_dict)):
        if not isinstance(given, dict):
            raise TypeError(f"parameter: {name} should be a dictionary, nothing logged.")
    domains = hparam_domain_discrete or {}
    _check_discrete_domains(hparam_dict, domains)
    start_info = plugin_data_pb2.SessionStartInfo()
    infos = [
        _hparam_entry(name, value, domains.get(name), start_info)
        for name, value in hparam_dict.items()
        if value is not None
    ]
    metrics = [api_pb2.MetricInfo(name=api_pb2.MetricName(tag=name)) for name in metric_dict]
    experiment = _hparams_summary(
        hparams_metadata.EXPERIMENT_TAG,
        experiment=api_pb2.Experiment(hparam_infos=infos, metric_infos=metrics),
    )
    start = _hparams_summary(hparams_metadata.SESSION_START_INFO_TAG, session_start_info=start_info)
    end = _hparams_summary(
        hparams_metadata.SESSION_END_INFO_TAG,
        session_end_info=plugin_data_pb2.SessionEndInfo(status=api_pb2.STATUS_SUCCESS),
    )
    return experiment, start, end
