"""Nested containers of tensors (pytrees): flattened to a list of leaves and rebuilt.

Tuples, lists, dicts and named tuples are containers; anything else is a leaf. The
structure (`TreeSpec`) prints as PyTorch's does in vmap's error messages.
"""

from __future__ import annotations

from typing import Any

__all__ = ["TreeSpec", "tree_flatten", "tree_map", "tree_unflatten"]


class TreeSpec:
    """The shape of a nested container: its type, dict keys and children (None for a leaf)."""

    __slots__ = ("children", "context", "kind")

    def __init__(self, kind, context, children: list):
        self.kind = kind
        self.context = context
        self.children = children

    @property
    def is_leaf(self) -> bool:
        return self.kind is None

    @property
    def num_leaves(self) -> int:
        return 1 if self.is_leaf else sum(child.num_leaves for child in self.children)

    def __eq__(self, other) -> bool:
        return (isinstance(other, TreeSpec) and self.kind is other.kind
                and self.context == other.context and self.children == other.children)

    def __repr__(self) -> str:
        if self.is_leaf:
            return "*"
        children = ",\n  ".join(repr(child) for child in self.children)
        context = None if self.context is None else list(self.context)
        return f"TreeSpec({self.kind.__name__}, {context}, [{children}])"


_LEAF = TreeSpec(None, None, [])


def _is_namedtuple(value) -> bool:
    return isinstance(value, tuple) and hasattr(type(value), "_fields")


def tree_flatten(tree: Any) -> tuple[list, TreeSpec]:
    """The leaves of `tree` in order, and its structure."""
    leaves: list = []
    return leaves, _flatten(tree, leaves)


def _flatten(tree, leaves: list) -> TreeSpec:
    if type(tree) in (tuple, list) or _is_namedtuple(tree):
        return TreeSpec(type(tree), None, [_flatten(item, leaves) for item in tree])
    if isinstance(tree, dict):
        keys = list(tree)
        return TreeSpec(type(tree), tuple(keys), [_flatten(tree[key], leaves) for key in keys])
    leaves.append(tree)
    return _LEAF


def tree_unflatten(leaves, spec: TreeSpec) -> Any:
    """The container of structure `spec` holding `leaves` in order."""
    iterator = iter(leaves)
    return _unflatten(iterator, spec)


def _unflatten(iterator, spec: TreeSpec):
    if spec.is_leaf:
        return next(iterator)
    children = [_unflatten(iterator, child) for child in spec.children]
    if spec.context is not None:
        return spec.kind(zip(spec.context, children))
    if spec.kind not in (tuple, list):
        return spec.kind(*children)
    return spec.kind(children)


def tree_map(function, tree: Any) -> Any:
    leaves, spec = tree_flatten(tree)
    return tree_unflatten([function(leaf) for leaf in leaves], spec)


def broadcast_prefix(prefix: Any, tree: Any) -> list | None:
    """`prefix` (a tree whose leaves stand for whole subtrees of `tree`) expanded to one
    value per leaf of `tree`; None when the structures do not match."""
    result: list = []
    return result if _broadcast(prefix, tree, result) else None


def _broadcast(prefix, tree, result: list) -> bool:
    if type(prefix) in (tuple, list) or _is_namedtuple(prefix) or isinstance(prefix, dict):
        if isinstance(prefix, dict):
            if not isinstance(tree, dict) or set(prefix) != set(tree):
                return False
            return all(_broadcast(prefix[key], tree[key], result) for key in tree)
        if not (type(tree) in (tuple, list) or _is_namedtuple(tree)) or len(prefix) != len(tree):
            return False
        if type(prefix) is not type(tree) and not (isinstance(prefix, tuple) and isinstance(tree, tuple)):
            return False
        return all(_broadcast(p, t, result) for p, t in zip(prefix, tree))
    result.extend([prefix] * tree_flatten(tree)[1].num_leaves)
    return True
