"""`retrograd.backends.cuda`: CUDA's switches (`matmul.allow_tf32`); no CUDA in this CPU build."""

__all__ = ["is_built", "matmul"]


class _MatmulSettings:
    """`backends.cuda.matmul`: stored, read back, and without effect on the CPU."""

    def __init__(self):
        self.allow_tf32 = False
        self.allow_fp16_reduced_precision_reduction = True
        self.allow_bf16_reduced_precision_reduction = True


matmul = _MatmulSettings()


def is_built() -> bool:
    """Whether this build has CUDA support: False."""
    return False
