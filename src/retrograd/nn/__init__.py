"""Neural-network building blocks: modules, parameters, initialisation and functional ops."""

from . import functional

__all__ = ["functional"]
