"""Samples for the ops of `retrograd.ops.composite`, one module per op module."""
