"""`python -m retrograd.distributed.run`: start N copies of a training script, torchrun-style.

    python -m retrograd.distributed.run --nproc-per-node 2 train.py --epochs 3

A thin wrapper over the MPI launcher: it runs `mpiexec -n N python -m
retrograd.distributed._bootstrap train.py ...`, so each rank finds RANK, WORLD_SIZE,
LOCAL_RANK and LOCAL_WORLD_SIZE in its environment, and a rank that fails stops the job.
Across machines, give a hostfile (`--hostfile hosts --nnodes 2`): see docs/distributed.md.
"""

from __future__ import annotations

import argparse
import os
import shlex
import shutil
import signal
import subprocess
import sys


def find_mpiexec(explicit: str | None = None) -> str:
    """The `mpiexec` to use: --mpiexec, $RETROGRAD_MPIEXEC, the one beside this Python (the
    `mpich` wheel puts it there), then the first on PATH."""
    candidates = [explicit, os.environ.get("RETROGRAD_MPIEXEC"),
                  os.path.join(os.path.dirname(sys.executable), "mpiexec")]
    for candidate in candidates:
        if candidate and os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    found = shutil.which("mpiexec") or shutil.which("mpirun")
    if found is None:
        raise SystemExit(
            "retrograd.distributed.run: no mpiexec found. Install the distributed extra "
            "(pip install 'retrograd[distributed]', which brings MPICH), or pass --mpiexec PATH."
        )
    return found


def _flavour(mpiexec: str) -> str:
    """'openmpi' or 'mpich' (Hydra), from `mpiexec --version`."""
    try:
        text = subprocess.run([mpiexec, "--version"], capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.TimeoutExpired):
        return "mpich"
    return "openmpi" if "Open MPI" in text or "OpenRTE" in text or "PRRTE" in text else "mpich"


def build_command(args: argparse.Namespace) -> list[str]:
    mpiexec = find_mpiexec(args.mpiexec)
    total = args.nproc_per_node * args.nnodes
    command = [mpiexec, "-n", str(total)]
    flavour = _flavour(mpiexec)
    if args.hostfile:
        if flavour == "openmpi":
            command += ["--hostfile", args.hostfile, "--map-by", f"ppr:{args.nproc_per_node}:node"]
        else:
            command += ["-f", args.hostfile, "-ppn", str(args.nproc_per_node)]
    elif flavour == "openmpi" and total > (os.cpu_count() or 1):
        command += ["--oversubscribe"]
    command += shlex.split(args.mpiexec_args or "")
    if args.no_python:
        command += [args.training_script]
    else:
        command += [sys.executable, "-m", "retrograd.distributed._bootstrap"]
        command += ["-m", args.training_script] if args.module else [args.training_script]
    return command + list(args.training_script_args)


def parser() -> argparse.ArgumentParser:
    result = argparse.ArgumentParser(
        prog="python -m retrograd.distributed.run",
        description="Start N processes of a training script under MPI (torchrun's options).",
    )
    result.add_argument("--nproc-per-node", "--nproc_per_node", type=int, default=1,
                        help="processes on each machine (default 1)")
    result.add_argument("--nnodes", type=int, default=1, help="machines (with --hostfile)")
    result.add_argument("--hostfile", help="MPI hostfile naming the machines (see docs/distributed.md)")
    result.add_argument("--standalone", action="store_true", help="accepted for torchrun compatibility")
    for option in ("--master-addr", "--master-port", "--node-rank", "--rdzv-backend", "--rdzv-endpoint",
                   "--rdzv-id", "--max-restarts"):
        result.add_argument(option, option.replace("-", "_").replace("__", "--"),
                            help="accepted for torchrun compatibility and ignored: MPI's launcher "
                                 "connects the processes")
    result.add_argument("--mpiexec", help="the mpiexec to run (default: beside this Python, then PATH)")
    result.add_argument("--mpiexec-args", help="more options for mpiexec, as one quoted string")
    result.add_argument("-m", "--module", action="store_true",
                        help="run the script as a module (python -m)")
    result.add_argument("--no-python", "--no_python", action="store_true",
                        help="run the script as an executable, not with python")
    result.add_argument("--dry-run", action="store_true", help="print the mpiexec command and stop")
    result.add_argument("training_script")
    result.add_argument("training_script_args", nargs=argparse.REMAINDER)
    return result


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.nproc_per_node < 1 or args.nnodes < 1:
        raise SystemExit("retrograd.distributed.run: --nproc-per-node and --nnodes must be at least 1")
    if args.nnodes > 1 and not args.hostfile:
        raise SystemExit("retrograd.distributed.run: --nnodes > 1 needs --hostfile (the machines to use)")
    command = build_command(args)
    if args.dry_run:
        print(shlex.join(command))
        return 0
    process = subprocess.Popen(command)

    def forward(signum, frame):  # stopping the launcher stops the job: mpiexec ends its ranks
        process.send_signal(signum)

    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, forward)
    returncode = process.wait()
    if returncode != 0:
        sys.stderr.write(
            f"retrograd.distributed.run: the job failed (mpiexec exit code {returncode}); "
            "the first failing rank's traceback is above, prefixed [rankN]\n"
        )
    return returncode


if __name__ == "__main__":
    sys.exit(main())
