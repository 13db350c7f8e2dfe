"""Samples for the ops of `retrograd.ops.nn`, one module per op module."""
