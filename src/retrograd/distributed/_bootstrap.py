"""What each rank runs under the launcher: set torchrun's variables, run the script, and
stop the whole job if it fails (see Note [A failing rank stops the job]).

    mpiexec -n 2 python -m retrograd.distributed._bootstrap train.py --epochs 3
"""

from __future__ import annotations

import os
import runpy
import sys
import time
import traceback


def _set_environment(MPI) -> None:
    """RANK, WORLD_SIZE, LOCAL_RANK, LOCAL_WORLD_SIZE, as torchrun sets them."""
    world = MPI.COMM_WORLD
    local = world.Split_type(MPI.COMM_TYPE_SHARED)
    os.environ["RANK"] = str(world.Get_rank())
    os.environ["WORLD_SIZE"] = str(world.Get_size())
    os.environ["LOCAL_RANK"] = str(local.Get_rank())
    os.environ["LOCAL_WORLD_SIZE"] = str(local.Get_size())
    os.environ.setdefault("MASTER_ADDR", "localhost")  # unused by MPI; read by some scripts
    os.environ.setdefault("MASTER_PORT", "29500")
    local.Free()


def _fail(MPI, code: int, text: str) -> None:
    rank = MPI.COMM_WORLD.Get_rank()
    sys.stderr.write("".join(f"[rank{rank}]: {line}\n" for line in text.rstrip("\n").split("\n")))
    sys.stderr.write(
        f"[rank{rank}]: retrograd.distributed.run: rank {rank} failed (exit code {code}); "
        f"stopping all {MPI.COMM_WORLD.Get_size()} ranks\n"
    )
    sys.stderr.flush()
    sys.stdout.flush()
    time.sleep(0.2)  # let the launcher forward the traceback before it stops every process
    MPI.COMM_WORLD.Abort(code)


def main(argv: list[str]) -> None:
    from mpi4py import MPI

    _set_environment(MPI)
    if not argv:
        _fail(MPI, 2, "usage: python -m retrograd.distributed._bootstrap [-m] SCRIPT [ARGS...]")
    as_module = argv[0] == "-m"
    if as_module:
        argv = argv[1:]
    target = argv[0]
    sys.argv = list(argv)
    try:
        if as_module:
            runpy.run_module(target, run_name="__main__", alter_sys=True)
        else:
            sys.path.insert(0, os.path.dirname(os.path.abspath(target)))
            runpy.run_path(target, run_name="__main__")
    except SystemExit as stop:
        code = stop.code
        if code is None or code == 0:
            return
        if isinstance(code, int):
            _fail(MPI, code, f"SystemExit({code})")
        _fail(MPI, 1, str(code))
    except BaseException:
        _fail(MPI, 1, traceback.format_exc())


if __name__ == "__main__":
    main(sys.argv[1:])
