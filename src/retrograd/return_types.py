"""`retrograd.return_types`: the named tuples of ops with several results, as PyTorch's
`torch.return_types`.

`x.max(dim)` returns a `retrograd.return_types.max` whose fields are `values` and `indices`;
given `out=(values, indices)` it returns a `retrograd.return_types.max_out` made of those
two tensors, as PyTorch does. Each type is a tuple (unpacking, indexing, `len`) with named
fields, printed as PyTorch prints its own:

    >>> import retrograd
    >>> retrograd.tensor([[1.0, 5.0], [3.0, 2.0]]).max(0)
    retrograd.return_types.max(
    values=tensor([3., 5.]),
    indices=tensor([1, 0]))

Like PyTorch's (Python's struct sequences), a type is built from one sequence,
`retrograd.return_types.max((values, indices))`; it also takes the fields one by one.
"""

from __future__ import annotations

import builtins


class _ReturnType(tuple):
    """The base of the named result tuples: fields by name, PyTorch's printing and pickling."""

    __slots__ = ()
    _fields: tuple[str, ...] = ()
    n_fields = n_sequence_fields = 0
    n_unnamed_fields = 0

    def __new__(cls, *values):
        if builtins.len(values) == 1 and isinstance(values[0], tuple | builtins.list):
            values = tuple(values[0])
        if builtins.len(values) != builtins.len(cls._fields):
            raise TypeError(f"{cls.__module__}.{cls.__qualname__}() takes a "
                            f"{builtins.len(cls._fields)}-sequence ({builtins.len(values)}-sequence given)")
        return super().__new__(cls, values)

    def __repr__(self) -> str:
        items = ",\n".join(f"{name}={value!r}" for name, value in zip(self._fields, self))
        return f"{type(self).__module__}.{type(self).__qualname__}(\n{items})"

    def __reduce__(self):
        return (type(self), (tuple(self),))


def _make(name: str, fields: tuple[str, ...]) -> type:
    count = builtins.len(fields)
    namespace = {"__slots__": (), "_fields": fields, "__match_args__": fields, "n_fields": count,
                 "n_sequence_fields": count, "__module__": __name__, "__qualname__": name}
    for index, field in enumerate(fields):
        namespace[field] = property(lambda self, index=index: self[index],
                                    doc=f"Field {index}: {field}.")
    return type(name, (_ReturnType,), namespace)


# PyTorch's name -> its fields, for every op retrograd has with several results.
_FIELDS = {
    "aminmax": ("min", "max"),
    "cummax": ("values", "indices"),
    "cummin": ("values", "indices"),
    "frexp": ("mantissa", "exponent"),
    "histogram": ("hist", "bin_edges"),
    "histogramdd": ("hist", "bin_edges"),
    "kthvalue": ("values", "indices"),
    "_lu_with_info": ("LU", "pivots", "info"),
    "linalg_eigh": ("eigenvalues", "eigenvectors"),
    "linalg_lu": ("P", "L", "U"),
    "linalg_lu_factor": ("LU", "pivots"),
    "linalg_lu_factor_ex": ("LU", "pivots", "info"),
    "linalg_qr": ("Q", "R"),
    "linalg_slogdet": ("sign", "logabsdet"),
    "linalg_svd": ("U", "S", "Vh"),
    "lu_unpack": ("P", "L", "U"),
    "max": ("values", "indices"),
    "median": ("values", "indices"),
    "min": ("values", "indices"),
    "mode": ("values", "indices"),
    "nanmedian": ("values", "indices"),
    "qr": ("Q", "R"),
    "slogdet": ("sign", "logabsdet"),
    "sort": ("values", "indices"),
    "svd": ("U", "S", "V"),
    "topk": ("values", "indices"),
    "triangular_solve": ("solution", "cloned_coefficient"),
}

_TYPES = {}
for _name, _fields in _FIELDS.items():
    _TYPES[_name] = _make(_name, _fields)
    _TYPES[f"{_name}_out"] = _make(f"{_name}_out", _fields)  # what an op given out= returns
globals().update(_TYPES)

__all__ = sorted(_TYPES)


def out_type(result_type: type) -> type | None:
    """The `<name>_out` type of a result type (None for a tuple that is none of ours)."""
    if not issubclass(result_type, _ReturnType):
        return None
    name = result_type.__qualname__
    return _TYPES.get(name if name.endswith("_out") else f"{name}_out")
