"""Utilities beyond the core: data loading (`retrograd.utils.data`)."""

from . import data
