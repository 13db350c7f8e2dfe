"""Utilities built on the autograd engine: checkpointing (and, from the nn work, data)."""
