"""Samples for the ops of `retrograd.ops.index`, one module per op module."""
