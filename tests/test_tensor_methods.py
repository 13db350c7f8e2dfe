"""The op table is the only place Tensor methods come from (issue 11; Note [Where Tensor methods
come from] in ops/_table.py): Tensor has its class body and what the table attached, nothing else,
and no module but the table assigns to Tensor."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import retrograd
from retrograd import Tensor
from retrograd.ops import _batching, _table

SOURCE = Path(retrograd.__file__).resolve().parent
TABLE = SOURCE / "ops" / "_table.py"
BATCHED_REGISTRY = SOURCE / "ops" / "_batching" / "tensor.py"


def _names_class(node: ast.AST, class_name: str) -> bool:
    """`Tensor`, or `something.Tensor` (`_tensor.Tensor`), for `class_name` "Tensor"."""
    return (isinstance(node, ast.Name) and node.id == class_name) or (
        isinstance(node, ast.Attribute) and node.attr == class_name)


def assignments_to_tensor(tree: ast.AST, class_name: str = "Tensor") -> list[int]:
    """The lines that set an attribute of Tensor (or of `class_name`): `Tensor.x = ...`,
    `Tensor.x += ...`, `del Tensor.x`, `setattr(Tensor, ...)`, `delattr(Tensor, ...)`."""
    lines = []
    for node in ast.walk(tree):
        targets = []
        if isinstance(node, ast.Assign):
            targets = [part for target in node.targets
                       for part in (target.elts if isinstance(target, ast.Tuple) else [target])]
        elif isinstance(node, ast.AugAssign | ast.AnnAssign):
            targets = [node.target]
        elif isinstance(node, ast.Delete):
            targets = node.targets
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
              and node.func.id in ("setattr", "delattr") and node.args
              and _names_class(node.args[0], class_name)):
            lines.append(node.lineno)
        lines += [node.lineno for target in targets
                  if isinstance(target, ast.Attribute) and _names_class(target.value, class_name)]
    return lines


def test_no_module_but_the_table_assigns_to_tensor():
    found = []
    for path in sorted(SOURCE.rglob("*.py")):
        if path == TABLE:
            continue
        for line in assignments_to_tensor(ast.parse(path.read_text(), str(path))):
            found.append(f"{path.relative_to(SOURCE)}:{line}")
    assert not found, "Tensor attributes set outside ops/_table.py (use register_method): " + ", ".join(found)


@pytest.mark.parametrize("source, expected", [
    ("Tensor.x = f", [1]),
    ("Tensor.a, Tensor.b = f, g", [1, 1]),
    ("_tensor.Tensor.x = f", [1]),
    ("for n in names:\n    setattr(Tensor, n, f)", [2]),
    ("del Tensor.x", [1]),
    ("Tensor.x += 1", [1]),
    ("x = Tensor.x\nTensor.x == 1\nsetattr(other, 'x', 1)\nregister_method('x', f)", []),
])
def test_the_source_scan_sees_every_form_of_assignment(source, expected):
    assert assignments_to_tensor(ast.parse(source)) == expected


def test_tensor_has_its_class_body_and_what_the_table_attached():
    names = set(vars(Tensor))
    assert names == _table.CLASS_BODY | set(_table.attached), (
        "not attached by the table: " + ", ".join(sorted(names - _table.CLASS_BODY - set(_table.attached))))
    changed = [name for name, entry in _table.attached.items() if vars(Tensor)[name] is not entry.value]
    assert not changed, f"replaced after the table attached them: {changed}"
    assert not _table.CLASS_BODY & set(_table.attached)


def test_each_op_method_is_attached_by_its_op():
    for info in _table.table.values():
        for method in (*info.methods, *([info.inplace] if info.inplace else [])):
            entry = _table.attached[method]
            if method == "__matmul__":  # matmul's operator refuses numbers (products.py)
                assert entry.op is None and entry.module == "retrograd.ops.linalg.products"
                continue
            assert entry.op == info.name, (method, entry)
            assert entry.module == info.function.__module__, (method, entry.module)


def test_the_modules_that_declare_methods_are_named():
    modules = {entry.module for entry in _table.attached.values()}
    assert all(module.startswith("retrograd.") for module in modules), modules
    assert _table.attached["new_zeros"].module == "retrograd._creation"
    assert _table.attached["uniform_"].module == "retrograd.random.functions"
    assert _table.attached["type"].module == "retrograd._legacy"
    assert _table.attached["T"].module == "retrograd.ops.shape.reorder"
    assert _table.attached["put_"].module == "retrograd.ops.index.masks"
    assert _table.attached["fill_diagonal_"].module == "retrograd._tensor_extras"


def test_a_name_is_attached_once():
    with pytest.raises(RuntimeError, match=r"Tensor\.exp is already defined \(attached by retrograd\.ops"):
        _table.register_method("exp", lambda self: self)
    with pytest.raises(RuntimeError, match=r"Tensor\.detach is already defined \(in the class body\)"):
        _table.register_method("detach", lambda self: self)
    assert vars(Tensor)["exp"] is _table.attached["exp"].value


# BatchedTensor (vmap) has one registry of its own: see Note [Where BatchedTensor methods come
# from] in ops/_batching/tensor.py.


def test_no_module_but_its_registry_assigns_to_batched_tensor():
    found = []
    for path in sorted(SOURCE.rglob("*.py")):
        if path == BATCHED_REGISTRY:
            continue
        for line in assignments_to_tensor(ast.parse(path.read_text(), str(path)), "BatchedTensor"):
            found.append(f"{path.relative_to(SOURCE)}:{line}")
    assert not found, ("BatchedTensor attributes set outside ops/_batching/tensor.py "
                       "(use register_batched_method): " + ", ".join(found))


def test_the_source_scan_sees_assignments_to_batched_tensor():
    source = "BatchedTensor.__getitem__ = f\nsetattr(_batching.BatchedTensor, 'x', f)\nTensor.y = g"
    assert assignments_to_tensor(ast.parse(source), "BatchedTensor") == [1, 2]


def test_batched_tensor_has_its_class_body_and_what_its_registry_attached():
    names = set(vars(_batching.BatchedTensor))
    attached = set(_batching.batched_attached)
    assert names == _batching.BATCHED_CLASS_BODY | attached, (
        "not attached by register_batched_method: "
        + ", ".join(sorted(names - _batching.BATCHED_CLASS_BODY - attached)))
    changed = [name for name, entry in _batching.batched_attached.items()
               if vars(_batching.BatchedTensor)[name] is not entry.value]
    assert not changed, f"replaced after the registry attached them: {changed}"
    assert {"__getitem__", "__setitem__"} <= attached
    assert _batching.batched_attached["__getitem__"].module == "retrograd.ops._batching.functions"


def test_each_batched_op_method_is_attached_by_its_op():
    for name, entry in _batching.batched_attached.items():
        if entry.op is not None:
            info = _table.table[entry.op]
            assert name in info.methods and entry.module == info.function.__module__, (name, entry)
    assert _batching.batched_attached["argmax"].op == "argmax"


def test_a_batched_name_is_attached_once():
    with pytest.raises(RuntimeError, match=r"BatchedTensor\.__getitem__ is already defined"):
        _batching.register_batched_method("__getitem__", lambda self, key: self, __name__)
    with pytest.raises(RuntimeError, match=r"BatchedTensor\.shape is already defined \(by the class body\)"):
        _batching.register_batched_method("shape", property(lambda self: ()), __name__)
