"""Samples for the ops of `retrograd.ops.pointwise`, one module per op module."""
