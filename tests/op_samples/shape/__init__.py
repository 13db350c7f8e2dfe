"""Samples for the ops of `retrograd.ops.shape`, one module per op module."""
