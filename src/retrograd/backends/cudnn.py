"""`retrograd.backends.cudnn`: cuDNN's switches; there is no cuDNN in this CPU build."""

__all__ = ["allow_tf32", "benchmark", "deterministic", "enabled", "is_available", "version"]

enabled = True
benchmark = False
deterministic = False
allow_tf32 = True


def is_available() -> bool:
    """Whether cuDNN can be used: False."""
    return False


def version() -> None:
    """cuDNN's version: None, as PyTorch reports when it has no cuDNN."""
    return None
