"""Any module of the package can be imported first (issue 11: no import cycle in the core).

`python -c "import retrograd.x"` always runs `retrograd/__init__.py` first, in its one order, so it
cannot show a cycle. The driver below instead puts an empty `retrograd` package in `sys.modules`
(its `__init__` not run) and imports one module first, in a forked child per module (fork skips
the interpreter start and NumPy's import; up to four children run at once). For the core modules it then
runs the package's `__init__` and checks that the package came out the same as from `import
retrograd` (the same Tensor methods, the same op table).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

SOURCE = Path(__file__).resolve().parents[1] / "src" / "retrograd"

# Imported first, then the whole package: the modules of the old cycle and the op table.
COMPLETED = ("retrograd._tensor", "retrograd._creation", "retrograd.autograd", "retrograd.ops._table",
             "retrograd.autograd.graph", "retrograd.random")

DRIVER = r'''
import importlib, importlib.util, os, shutil, sys, tempfile, traceback, types
import numpy  # noqa: F401  (imported once, before the children fork)

source, completed = sys.argv[1], set(sys.argv[2].split(","))


def fingerprint(package):
    return (sorted(dir(package.Tensor)), sorted(package.ops.table), sorted(dir(package)),
            sorted(dir(package.autograd)))


def first(name):
    """In the child: import `name` before anything else of the package."""
    package = types.ModuleType("retrograd")
    package.__path__ = [source]
    package.__file__ = os.path.join(source, "__init__.py")
    package.__spec__ = importlib.util.spec_from_file_location(
        "retrograd", package.__file__, submodule_search_locations=[source])
    sys.modules["retrograd"] = package
    if name != "retrograd":
        importlib.import_module(name)
    if name in completed or name == "retrograd":
        package.__spec__.loader.exec_module(package)  # the package's __init__, after `name`
        print(repr(fingerprint(package)), flush=True)


names = []
for root, folders, files in os.walk(source):
    folders[:] = sorted(folder for folder in folders
                        if os.path.exists(os.path.join(root, folder, "__init__.py")))
    dotted = os.path.relpath(root, os.path.dirname(source)).replace(os.sep, ".")
    names += [dotted if file == "__init__.py" else f"{dotted}.{file[:-3]}"
              for file in sorted(files) if file.endswith(".py")]
names.remove("retrograd")
names.insert(0, "retrograd")  # the reference fingerprint comes first
assert not any(name.startswith("retrograd") for name in sys.modules)

workers = min(4, len(os.sched_getaffinity(0)))
outputs = tempfile.mkdtemp()
running, failed, prints = {}, [], {}
for name in names + [None]:
    while running and (len(running) == workers or name is None):
        pid, status = os.wait()
        done, path = running.pop(pid)
        with open(path) as file:
            output = file.read()
        if status:
            failed.append(done)
            print(f"--- {done} imported first:\n{output}", flush=True)
        elif output:
            prints[done] = output
    if name is None:
        continue
    path = os.path.join(outputs, name)
    writer = os.open(path, os.O_WRONLY | os.O_CREAT)
    pid = os.fork()
    if pid == 0:
        os.dup2(writer, 1)
        os.dup2(writer, 2)
        try:
            first(name)
        except BaseException:
            traceback.print_exc()
            sys.stdout.flush()
            os._exit(1)
        sys.stdout.flush()
        os._exit(0)
    os.close(writer)
    running[pid] = (name, path)

shutil.rmtree(outputs)
reference = prints.pop("retrograd")
for name, output in sorted(prints.items()):
    if output != reference:
        failed.append(name)
        print(f"--- {name} imported first: the package differs from `import retrograd`", flush=True)
print(f"{len(names)} modules, {len(failed)} failed: {failed}")
sys.exit(1 if failed else 0)
'''


def test_every_module_can_be_imported_first():
    environment = dict(os.environ, PYTHONWARNINGS="ignore")
    result = subprocess.run(
        [sys.executable, "-c", DRIVER, str(SOURCE), ",".join(COMPLETED)],
        capture_output=True, text=True, timeout=600, env=environment,
    )
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-3000:]
    assert " 0 failed" in result.stdout
