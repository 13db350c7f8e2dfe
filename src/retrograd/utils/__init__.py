"""Utilities built on the engine: checkpointing (`retrograd.utils.checkpoint`), data loading
(`retrograd.utils.data`), DLPack capsules (`retrograd.utils.dlpack`) and the safetensors
format (`retrograd.utils.safetensors`, needs the `safetensors` package)."""

from . import checkpoint, data, dlpack, safetensors
