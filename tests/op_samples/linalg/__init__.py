"""Samples for the ops of `retrograd.ops.linalg`, one module per op module."""
