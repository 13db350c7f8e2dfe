"""Which of PyTorch 2.13's public names retrograd has: the coverage page `docs/coverage.md`.

    python tools/coverage.py names   # with PyTorch installed: refresh tools/pytorch_names.json
                                     # (in a fresh interpreter: imports add names to torch)
    python tools/coverage.py page    # print the page (tests/test_coverage.py keeps it in step)

PyTorch's names are read once from an installed PyTorch and kept in `pytorch_names.json`,
so the page (and its test) needs only retrograd. A name is *supported* when retrograd has
it in the same place, *partial* when it is listed in PARTIAL below with what is missing,
and *not supported* otherwise, with the reason that the first matching rule of REASONS
gives. Names whose reason is a kind of tensor or machinery retrograd leaves out by design
(complex, sparse, quantized, other devices, the compiler stack) are out of scope; the
"in scope" figure leaves them out.
"""

from __future__ import annotations

import importlib
import json
import re
import sys
import types
from pathlib import Path

HERE = Path(__file__).resolve().parent
NAMES_FILE = HERE / "pytorch_names.json"

# PyTorch namespace -> the retrograd object that should hold the same names.
NAMESPACES = {
    "torch": "retrograd",
    "torch.Tensor": "retrograd.Tensor",
    "torch.nn": "retrograd.nn",
    "torch.nn.Module": "retrograd.nn.Module",
    "torch.nn.functional": "retrograd.nn.functional",
    "torch.nn.init": "retrograd.nn.init",
    "torch.optim": "retrograd.optim",
    "torch.optim.lr_scheduler": "retrograd.optim.lr_scheduler",
    "torch.autograd": "retrograd.autograd",
    "torch.utils.data": "retrograd.utils.data",
    "torch.nn.utils": "retrograd.nn.utils",
    "torch.nn.utils.parametrize": "retrograd.nn.utils.parametrize",
    "torch.nn.utils.parametrizations": "retrograd.nn.utils.parametrizations",
    "torch.nn.utils.prune": "retrograd.nn.utils.prune",
    "torch.distributions": "retrograd.distributions",
    "torch.distributions.constraints": "retrograd.distributions.constraints",
    "torch.special": "retrograd.special",
}

# 3-d convolution and max pooling, written with their 2-d ops (in torch and nn.functional)
_COMPOSED_3D = {
    "conv3d": "records the conv2d of each kernel depth (PyTorch: one `ConvolutionBackward0`); "
              "values and gradients are PyTorch's",
    "max_pool3d": "records 2-d poolings (PyTorch: `MaxPool3DWithIndicesBackward0`); `return_indices=True` "
                  "is not supported",
}

# Names retrograd has, but not all of what PyTorch's do: name -> what is missing.
PARTIAL = {
    "torch": {
        "empty": "filled with zeros (PyTorch leaves memory uninitialised)",
        "profiler": "CPU only; memory, FLOPs, stacks and schedules are accepted and ignored",
        "unique": "`sorted=False` returns sorted values (as PyTorch's CPU kernel does)",
        **_COMPOSED_3D,
        "ctc_loss": (
            "its node is `CtcLossBackward` (PyTorch: `CtcLossBackward0`); values and gradients are PyTorch's"
        ),
    },
    "torch.Tensor": {
        "resize_": "new elements are zeros (uninitialised in PyTorch); views do not see a grown storage",
        "type": "names types `retrograd.FloatTensor` (PyTorch: `torch.FloatTensor`)",
        "new_empty": "filled with zeros (PyTorch leaves memory uninitialised)",
        "cpu": "always the same tensor: retrograd computes on the CPU",
    },
    "torch.nn": {
        "DataParallel": "calls the wrapped module (as PyTorch does without GPUs); never splits batches",
        "LinearCrossEntropyLoss": (
            "`out_features` (a K-dimensional loss) fails: `F.linear_cross_entropy` takes 2-d weights only; "
            "`options` accepted, the logits computed whole"
        ),
        "LinearCrossEntropyOptions": "checked as PyTorch checks them; retrograd never chunks the batch",
    },
    "torch.nn.functional": {
        name: (
            f"records `GatherBackward0` and `ViewBackward0` (PyTorch: `FractionalMaxPool{dims}DBackward0`); "
            "values, indices, gradients and random windows are PyTorch's"
        )
        for dims in (2, 3)
        for name in (f"fractional_max_pool{dims}d", f"fractional_max_pool{dims}d_with_indices")
    } | {
        "ctc_loss": (
            "its node is `CtcLossBackward` (PyTorch: `CtcLossBackward0`); values and gradients are PyTorch's"
        ),
    } | _COMPOSED_3D,
    "torch.nn.Module": {
        "to_empty": "the CPU only, new memory filled with zeros; meta tensors are not supported",
        "register_backward_hook": (
            "hooks the output's grad_fn as PyTorch does, so what the hook sees follows retrograd's graph"
        ),
    },
    "torch.optim": {
        "Muon": "Newton–Schulz in float32 rounded to bfloat16 after each step (NumPy has no bfloat16): "
                "PyTorch's update to bfloat16 precision",
    },
    "torch.autograd": {
        "profiler": "CPU only: op counts and self/total CPU time; no memory, FLOPs or CUDA time",
    },
    "torch.nn.utils": {
        "skip_init": (
            "initialisers run (there is no meta device), then every tensor is zeros, not uninitialised"
        ),
        "convert_conv2d_weight_memory_format": (
            "the weights are copied, their layout unchanged: retrograd arrays have no channels-last layout"
        ),
        "convert_conv3d_weight_memory_format": (
            "the weights are copied, their layout unchanged: retrograd arrays have no channels-last layout"
        ),
        "memory_format": "the conversions keep PyTorch's contract; the layout is nominal (see its functions)",
    },
    "torch.distributions": {
        "Dirichlet": "`rsample`'s per-draw gradient follows the gamma draws (PyTorch's the Beta marginals)",
        "Beta": "`rsample`'s per-draw gradient follows the gamma draws (PyTorch's the Beta marginals)",
    },
}

# (pattern, reason, out of scope?) tried in order on "namespace.name"; the first match wins.
REASONS = [
    (r"complex|conj|\bimag\b|\.real$|angle|polar|view_as_real|view_as_complex|\.mH$|\.H$|adjoint|is_neg$|resolve_neg|chalf|cdouble|cfloat",
     "complex numbers: retrograd holds real dtypes only", True),
    (r"quant(?!ile)|\.q_|qint|quint|qscheme|int_repr|per_channel|per_tensor|fake_|\.ao$|fbgemm",
     "quantized tensors are not supported", True),
    (r"sparse|SparseAdam|\.coo|_csr|_csc|_bsr|_bsc|crow_|ccol_|col_indices|row_indices|to_dense|coalesce|\.indices$|\.values$|smm$|spmm|hspmm|saddmm|sspaddmm|dsmm|hsmm|dense_dim|\.layout|\.strided$|jagged|\.mkldnn|to_mkldnn|is_mkldnn",
     "sparse and other layouts: retrograd tensors are dense NumPy arrays", True),
    (r"cuda|cudnn|miopen|mkldnn|\.mps|xpu|ipu|mtia|hpu|vulkan|xla|maia|accelerator|pin_memory|is_pinned|record_stream|Stream$|Event$|privateuse|meta$|get_device|\.device_of|is_meta|backends|OutOfMemoryError|AcceleratorError|SyncBatchNorm",
     "other devices and back-ends: retrograd computes on the CPU with NumPy", True),
    (r"\.jit$|Script|script|trace|\.compile|compiler|\.fx$|\.export|_dynamo|\.onnx|Graph|\.Block$|\.Value$|\.Use$|\.Node$|\.Code$|Type$|\.Argument|ArgumentSpec|FunctionSchema|CompilationUnit|AliasDb|ErrorReport|FileCheck|import_ir|parse_ir|parse_schema|parse_type|merge_type|unify_type|Capsule|\.Future|\.futures|\.fork$|\.wait$|ExecutionPlan|GraphExecutor|ConcreteModuleType|ThroughputBenchmark|Benchmark|LiteScriptModule|StaticModule|DeepCopyMemoTable|Serialization.*Context|Deserialization|PyTorchFile|IODescriptor|InferredType|\.Tag$|DispatchKey|ExcludeDispatch|TracingState|while_loop|\.cond$|\.library$|\.ops$|\.classes$|\.overrides$|\.package$|LoggerBase|LockingLogger|NoopLogger|\.monitor$|AggregationType|\.SUM$|\.AVG$|has_torch_function|handle_torch_function|DisableTorchFunction|OperatorInfo|PRIVATE_OPS|\.sym_|\.Sym|call_super_init|compile$|_dispatch|dim_order",
     "TorchScript, compiler and dispatcher machinery: not part of an eager NumPy engine", True),
    (r"Storage|storage|share_memory|is_shared|data_ptr|untyped|\.set_$|is_set_to|from_file|frombuffer|dlpack",
     "storages are not exposed: a retrograd tensor owns a NumPy array", True),
    (r"float8|bfloat16|float4|uint16|uint32|uint64|\.uint[1-7]$|\.int[1-7]$|\.bits|BFloat16",
     "a dtype NumPy does not have", True),
    (r"refine_names|rename|align_to|align_as|\.names$|has_names|nested|NestedIOFunction",
     "named and nested tensors are not supported", True),
    (r"\.distributed$|DistributedSampler|\.multiprocessing$|rpc|\.hub$|\.testing$|\.utils$|\.amp$|autocast|GradScaler|\.signal$|\.windows$|\.masked$|\.quasirandom$|\.distributions$|\.fft$|\.special$|\.return_types$|\.serialization$|\.version$|torch_version|\.functional$|\.profiler$|\.random$|\.cpu$|\.storage$|\.types$|\.torch$|\.attention$|\.common_types$|\.grad$|\.intrinsic$|\.qat$|\.parameter$|\.modules$|\.parallel$|\.init$|\.optimizer$|\.lr_scheduler$|\.swa_utils$|datapipe|DataPipe|DataChunk|\.graph$|graph_settings|\.argument_validation|runtime_validation|non_deterministic|guaranteed_datapipes|\.anomaly_mode$|\.forward_ad$|\.profiler_legacy$|\.profiler_util$|\.variable$|\.grad_mode$|\.function$|\.functional$|\.gradcheck$|\.graph$|kineto|Profiler|DeviceType|SavedTensor$",
     "a submodule or service outside this comparison", False),
    (r"_copy$|\.native_|batch_norm_(backward|elemt|gather|stats|update)|_with_counts|norm_except_dim|frobenius_norm|nuclear_norm|affine_grid_generator|grid_sampler|constant_pad_nd|conv_tbc|\.convolution$|rnn_(relu|tanh)|\.lstm$|\.gru$|lstm_cell|gru_cell|embedding_renorm_|feature_dropout|choose_qparams|segment_reduce|assert_int_or_pair|thread_safe_generator|\.cpp$|CallStack|FatalError|JITException|\.Gradient$|classproperty|get_file_path|prepare_multiprocessing|hash_tensor|slice_inverse|nonzero_static|unsafe_|grouped_mm|scaled_mm|factory_kwargs|T_destination|dump_patches|module_load|reinforce|to_padded_tensor|\.volatile$|\.grad_dtype$|\.map2?_$|\.apply_$",
     "ATen's low-level entry points and internal helpers: not called by user programs", True),
    (r"deterministic|set_warn_always|is_warn_always|num_threads|num_interop|flush_denormal|float32_matmul_precision|init_num_threads|has_lapack|has_mkl|has_openmp|has_spectral|compiled_with|is_vulkan|multithreading|is_view_replay|enforce_grad_layout|Lazy|Uninitialized",
     "runtime settings of PyTorch's C++ library", False),
    (r".", "not implemented yet", False),
]


# ---------------------------------------------------------------------------
# Reading PyTorch's names (needs PyTorch)


def _resolve(path: str):
    module_path, _, attribute = path.rpartition(".")
    try:
        return importlib.import_module(path)
    except ImportError:
        return getattr(importlib.import_module(module_path), attribute)


def _kind(value) -> str:
    if isinstance(value, types.ModuleType):
        return "module"
    if isinstance(value, type):
        return "class"
    if callable(value):
        return "function"
    if isinstance(value, property) or type(value).__name__ in ("getset_descriptor", "member_descriptor"):
        return "attribute"
    return "constant"


def _public_names(namespace: str, holder) -> dict[str, str]:
    """The public names of a PyTorch namespace, without what it merely imports."""
    names = {}
    exported = set(getattr(holder, "__all__", ()) or ())
    for name in dir(holder):
        if name.startswith("_"):
            continue
        try:
            value = getattr(holder, name)
        except Exception:
            continue
        kind = _kind(value)
        if namespace in ("torch.Tensor", "torch.nn.Module"):
            names[name] = kind
            continue
        owner = getattr(value, "__name__", "") if kind == "module" else getattr(value, "__module__", "") or ""
        if kind == "module" and not owner.startswith(namespace + "."):
            continue
        if kind in ("class", "function") and not (owner.startswith("torch") or name in exported):
            continue
        if namespace == "torch.nn.functional" and kind != "function":
            continue
        upper_constant = name.isupper() and namespace != "torch"
        if kind == "constant" and (isinstance(value, bool | str) or upper_constant):
            continue
        if namespace != "torch" and kind != "module" and not (
            name in exported or owner.startswith(namespace) or
            (namespace == "torch.nn.functional" and owner in ("torch", "torch._C._nn"))
        ):
            continue
        names[name] = kind
    return dict(sorted(names.items()))


def read_pytorch_names() -> dict:
    import torch

    return {
        "pytorch": torch.__version__.split("+")[0],
        "namespaces": {namespace: _public_names(namespace, _resolve(namespace)) for namespace in NAMESPACES},
    }


# ---------------------------------------------------------------------------
# Classifying and the page (retrograd only)


def load_names() -> dict:
    return json.loads(NAMES_FILE.read_text())


def _has(holder, name: str) -> bool:
    try:
        getattr(holder, name)
    except Exception:
        return False
    return True


def reason_for(namespace: str, name: str) -> tuple[str, bool]:
    for pattern, reason, out_of_scope in REASONS:
        if re.search(pattern, f"{namespace}.{name}"):
            return reason, out_of_scope
    raise AssertionError("the last rule matches everything")


def classify(names: dict) -> dict:
    """namespace -> {"supported": [names], "partial": {name: what differs},
    "missing": {name: (reason, out of scope?)}}."""
    result = {}
    for namespace, target in NAMESPACES.items():
        holder = _resolve(target)
        supported, partial, missing = [], {}, {}
        notes = PARTIAL.get(namespace, {})
        for name in names["namespaces"][namespace]:
            if _has(holder, name):
                if name in notes:
                    partial[name] = notes[name]
                else:
                    supported.append(name)
            else:
                missing[name] = reason_for(namespace, name)
        result[namespace] = {"supported": supported, "partial": partial, "missing": missing}
    return result


def _percent(part: int, whole: int) -> str:
    return f"{100.0 * part / whole:.1f}%" if whole else "n/a"


def summary_rows(classes: dict) -> list[tuple]:
    rows = []
    for namespace, groups in classes.items():
        have = len(groups["supported"]) + len(groups["partial"])
        out_of_scope = sum(1 for _, excluded in groups["missing"].values() if excluded)
        total = have + len(groups["missing"])
        rows.append((namespace, total, len(groups["supported"]), len(groups["partial"]),
                     len(groups["missing"]), _percent(have, total), _percent(have, total - out_of_scope)))
    return rows


def render_page(names: dict) -> str:
    classes = classify(names)
    lines = [
        f"# Coverage of PyTorch {names['pytorch']}'s public names",
        "",
        "Generated by `PYTHONPATH=src python tools/coverage.py page > docs/coverage.md` from the names in",
        "`tools/pytorch_names.json` and the names retrograd has; do not edit by hand",
        "(`tests/test_coverage.py` fails when this page is out of step with the code).",
        "",
        "*Supported*: retrograd has the name in the same place. *Partial*: it has it, with the",
        "difference noted. *Not supported*: with the reason. *In scope* leaves out what retrograd",
        "omits by design (complex, sparse and quantized tensors, other devices, the compiler stack,",
        "storages, dtypes NumPy lacks, named and nested tensors).",
        "",
        "| namespace | PyTorch names | supported | partial | not supported | coverage | coverage in scope |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for row in summary_rows(classes):
        lines.append("| `{}` | {} | {} | {} | {} | {} | {} |".format(*row))
    for namespace, groups in classes.items():
        lines += ["", f"## `{namespace}`", ""]
        lines.append(f"**Supported ({len(groups['supported'])})**: "
                     + (", ".join(f"`{name}`" for name in groups["supported"]) or "none") + ".")
        if groups["partial"]:
            lines += ["", f"**Partial ({len(groups['partial'])})**", "",
                      "| name | what differs |", "| --- | --- |"]
            lines += [f"| `{name}` | {note} |" for name, note in groups["partial"].items()]
        by_reason: dict[str, list[str]] = {}
        for name, (reason, _) in groups["missing"].items():
            by_reason.setdefault(reason, []).append(name)
        lines += ["", f"**Not supported ({len(groups['missing'])})**"]
        ordered = sorted(by_reason.items(), key=lambda item: (item[0] != "not implemented yet", item[0]))
        for reason, members in ordered:
            lines += ["", f"- {reason} ({len(members)}): " + ", ".join(f"`{name}`" for name in members) + "."]
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> int:
    command = argv[1] if len(argv) > 1 else "page"
    if command in ("names", "names-print"):
        text = json.dumps(read_pytorch_names(), indent=1, sort_keys=True) + "\n"
        if command == "names":
            NAMES_FILE.write_text(text)
        else:
            sys.stdout.write(text)
        return 0
    if command == "page":
        sys.stdout.write(render_page(load_names()))
        return 0
    if command == "summary":
        for row in summary_rows(classify(load_names())):
            print(*row, sep="\t")
        return 0
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.path.insert(0, str(HERE.parent / "src"))
    sys.exit(main(sys.argv))
