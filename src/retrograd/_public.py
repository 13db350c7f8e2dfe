"""Public module names on public classes.

Note [Public module names]
    A class shows the module it lives in: `type(t)` prints `<class 'retrograd._tensor.Tensor'>`
    unless told otherwise. PyTorch's classes show their public module (`torch.Tensor`,
    `torch.nn.modules.pooling.MaxPool1d`, `torch.optim.adamw.AdamW`), and programs print them,
    import from those modules and pickle by those names. So each public class written in a
    module PyTorch does not have (or in a different one) is given, here and only here, the
    module where PyTorch keeps its counterpart, with `torch` read as `retrograd`
    (`torch._C` as `retrograd`, or as the namespace that exports the class). The module
    exists and holds the class, so
    `from retrograd.nn.modules.padding import ZeroPad2d` works and pickle finds the class by
    the name it shows. tests/test_public_names.py compares every class of the public
    namespaces with PyTorch's.
"""

from __future__ import annotations

import importlib
import warnings

__all__ = ["publish", "silence_numpy_floating_point_warnings"]

# public home -> (namespace the classes are found in, their names)
HOMES = {
    "retrograd": ("retrograd", ("Generator", "Size", "Tensor", "device", "dtype", "finfo", "iinfo",
                                "memory_format")),
    "retrograd.linalg": ("retrograd.linalg", ("LinAlgError",)),  # torch._C's, shown by torch.linalg
    "retrograd.autograd.anomaly_mode": ("retrograd.autograd", ("detect_anomaly", "set_detect_anomaly")),
    "retrograd.autograd.profiler_util": ("retrograd.autograd.profiler", ("EventList", "FunctionEvent")),
    "retrograd.utils.hooks": ("retrograd.utils.hooks", ("RemovableHandle",)),
    "retrograd.utils.data.dataset": ("retrograd.utils.data", ("ChainDataset", "StackDataset")),
    "retrograd.nn.modules.activation": ("retrograd.nn", ("GLU", "Hardshrink", "MultiheadAttention",
                                                         "RReLU", "Softmax2d", "Softshrink",
                                                         "Tanhshrink")),
    "retrograd.nn.modules.batchnorm": ("retrograd.nn", ("BatchNorm1d", "BatchNorm2d", "BatchNorm3d")),
    "retrograd.nn.modules.channelshuffle": ("retrograd.nn", ("ChannelShuffle",)),
    "retrograd.nn.modules.conv": ("retrograd.nn", ("Conv3d", "ConvTranspose1d")),
    "retrograd.nn.modules.distance": ("retrograd.nn", ("CosineSimilarity", "PairwiseDistance")),
    "retrograd.nn.modules.dropout": ("retrograd.nn", ("AlphaDropout", "Dropout3d", "FeatureAlphaDropout")),
    "retrograd.nn.modules.fold": ("retrograd.nn", ("Fold", "Unfold")),
    "retrograd.nn.modules.instancenorm": ("retrograd.nn", ("InstanceNorm1d", "InstanceNorm2d",
                                                           "InstanceNorm3d")),
    "retrograd.nn.modules.linear": ("retrograd.nn", ("Identity",)),
    "retrograd.nn.modules.container": ("retrograd.nn", ("Container",)),
    "retrograd.nn.modules.loss": ("retrograd.nn", (
        "CTCLoss", "CosineEmbeddingLoss", "LinearCrossEntropyLoss",
        "NLLLoss2d", "GaussianNLLLoss", "HingeEmbeddingLoss", "MarginRankingLoss",
        "MultiLabelMarginLoss", "MultiLabelSoftMarginLoss", "MultiMarginLoss", "PoissonNLLLoss",
        "SoftMarginLoss", "TripletMarginLoss", "TripletMarginWithDistanceLoss")),
    "retrograd.nn.modules.normalization": ("retrograd.nn", ("CrossMapLRN2d", "LocalResponseNorm",
                                                            "RMSNorm")),
    "retrograd.nn.modules.padding": ("retrograd.nn", (
        "CircularPad1d", "CircularPad2d", "CircularPad3d", "ConstantPad1d", "ConstantPad2d",
        "ConstantPad3d", "ReflectionPad1d", "ReflectionPad2d", "ReflectionPad3d",
        "ReplicationPad1d", "ReplicationPad2d", "ReplicationPad3d", "ZeroPad1d", "ZeroPad2d",
        "ZeroPad3d")),
    "retrograd.nn.modules.pixelshuffle": ("retrograd.nn", ("PixelShuffle", "PixelUnshuffle")),
    "retrograd.nn.modules.pooling": ("retrograd.nn", (
        "AdaptiveAvgPool1d", "AdaptiveAvgPool3d", "AdaptiveMaxPool1d", "AdaptiveMaxPool2d",
        "AdaptiveMaxPool3d", "AvgPool1d", "AvgPool3d", "FractionalMaxPool2d", "FractionalMaxPool3d",
        "LPPool1d", "LPPool2d", "LPPool3d", "MaxPool1d", "MaxPool3d", "MaxUnpool1d", "MaxUnpool2d",
        "MaxUnpool3d")),
    "retrograd.nn.modules.sparse": ("retrograd.nn", ("EmbeddingBag",)),
    "retrograd.nn.modules.upsampling": ("retrograd.nn", ("Upsample", "UpsamplingBilinear2d",
                                                         "UpsamplingNearest2d")),
    "retrograd.optim": ("retrograd.optim", ("Adafactor", "Muon")),
    "retrograd.optim.adadelta": ("retrograd.optim", ("Adadelta",)),
    "retrograd.optim.adagrad": ("retrograd.optim", ("Adagrad",)),
    "retrograd.optim.adamax": ("retrograd.optim", ("Adamax",)),
    "retrograd.optim.adamw": ("retrograd.optim", ("AdamW",)),
    "retrograd.optim.asgd": ("retrograd.optim", ("ASGD",)),
    "retrograd.optim.nadam": ("retrograd.optim", ("NAdam",)),
    "retrograd.optim.radam": ("retrograd.optim", ("RAdam",)),
    "retrograd.optim.rprop": ("retrograd.optim", ("Rprop",)),
}


def publish() -> None:
    """Give each class of HOMES its public module (see Note [Public module names])."""
    for home_name, (namespace_name, names) in HOMES.items():
        home = importlib.import_module(home_name)
        namespace = importlib.import_module(namespace_name)
        for name in names:
            found = getattr(namespace, name)
            found.__module__ = home_name
            setattr(home, name, found)


def silence_numpy_floating_point_warnings() -> None:
    """NumPy's floating-point warnings raised inside retrograd are not shown.

    Note [No NumPy warnings]
        `tensor(1e30) / tensor(1e-30)` is inf and `log(tensor(0.))` is -inf in PyTorch, without
        a word; NumPy warns ("overflow encountered in divide"). One filter, installed once,
        drops those RuntimeWarnings when they come from retrograd's own code (the user's own
        NumPy calls still warn). It costs nothing per op: `np.errstate` around the op runner
        would add about 4.7 us to every op (about 1.4 us for the ufunc itself), setting
        NumPy's error-state context variable directly about 0.65 us. A filter is undone by what
        resets filters: `warnings.simplefilter("always")`, or `catch_warnings()` around
        `import retrograd` (pytest does that while it collects, so tests check in a subprocess).
    """
    warnings.filterwarnings(
        "ignore",
        message=r"(overflow|invalid value|divide by zero|underflow) encountered",
        category=RuntimeWarning,
        module=r"retrograd(\.|$)",
    )
