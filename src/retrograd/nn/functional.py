"""Neural-network functions (activations, losses, convolution, pooling, normalisation)."""

__all__: list[str] = []
