"""Samples for the ops of `retrograd.ops.reduce`, one module per op module."""
