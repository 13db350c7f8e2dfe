"""Neural-network building blocks: modules, parameters, initialisation and functional ops."""

from . import _init_more, functional, init, parallel, utils
from .modules import *  # noqa: F403
from .modules import __all__ as _modules_all
from .parallel import DataParallel
from .parameter import Buffer, Parameter

_init_more.install()

__all__ = ["Buffer", "DataParallel", "Parameter", "functional", "init", "parallel", "utils", *_modules_all]
