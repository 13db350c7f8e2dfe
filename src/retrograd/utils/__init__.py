"""Utilities built on the engine: checkpointing (`retrograd.utils.checkpoint`) and data
loading (`retrograd.utils.data`)."""

from . import checkpoint, data
