"""`retrograd.backends.mps`: Apple's Metal backend; not in this CPU build."""

__all__ = ["is_available", "is_built"]


def is_available() -> bool:
    """Whether an MPS device can be used: False."""
    return False


def is_built() -> bool:
    """Whether this build has MPS support: False."""
    return False
