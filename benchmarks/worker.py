"""One library's own process: it builds, checks and times a workload's step when asked.

    python -m benchmarks.worker LIBRARY --threads N [--quick]     # started by the harness

The harness keeps one such process per library for a whole run and asks each in turn for a
timed sample, so the samples stay interleaved while every library runs alone in its process,
as a user's program does (Note [Each library in its own process]). Requests and answers are
JSON lines on the process's standard input and on a duplicate of its original standard output;
whatever the libraries print goes to standard error.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

from .environment import limit_loaded_pools, pin_threads, use_repository_sources

# Note [Each library in its own process]
#     Timing every library in one process made them share two things a user's program never
#     shares. The heap: glibc hands the pages one library's step freed to the next library's
#     step, so a library's time depended on which library ran before it (w3's ratio of
#     retrograd's step to the hand-written NumPy step went from 1.04 to 0.81 when retrograd
#     freed its gradients at the end of its step, and it was NumPy's time that changed; alone
#     in its process retrograd's step took 0.64x of NumPy's alone). And the cyclic garbage
#     collector: every full collection walks every tracked object of the process, PyTorch's
#     ~150,000 included. So each library gets a process of its own, started once per run, and
#     the harness asks the processes in turn (A B C A B C ...): interleaving still spreads the
#     machine's drift over all alike.


class Worker:
    """The state of one library's process: its module and the step it is timing."""

    def __init__(self, library_name: str, threads: int, quick: bool):
        from .libraries import BY_NAME

        self.library_name = library_name
        self.quick = quick
        self.module = BY_NAME[library_name].load(threads)
        limit_loaded_pools(threads)
        self.workload = None
        self.step = None

    def prepare(self, workload_key: str) -> dict:
        """Build this library's step of the workload and check its gradients against NumPy's."""
        import numpy as np

        from .harness import check, reference_gradients
        from .workloads import Unavailable, all_workloads

        self.workload = self.step = None
        workload = next(w for w in all_workloads(self.quick) if w.key == workload_key)
        builder = workload.builders.get(self.library_name)
        if builder is None:
            return {"note": "not implemented"}
        problem = workload.make_problem(self.quick)
        try:
            step = builder(self.module, problem)
            max_error = check(step, reference_gradients(workload, problem, np), workload)
        except Unavailable as reason:
            return {"note": f"n/a: {reason}"}
        except AssertionError as failure:
            return {"note": f"wrong gradient: {failure}"}
        self.workload, self.step = workload, step
        return {"max_error": max_error}

    def time(self, calls: int) -> dict:
        """Seconds that `calls` calls of the prepared step took."""
        from .harness import timed

        return {"seconds": timed(self.step, calls, self.workload.disable_gc)}

    def release(self) -> dict:
        self.workload = self.step = None
        return {}


def serve(worker: Worker, requests, answers) -> None:
    """Answer each request line until the harness closes the pipe; a library's error is an answer."""
    from .harness import describe_error

    actions = {"prepare": worker.prepare, "time": worker.time, "release": worker.release}
    for line in requests:
        request = json.loads(line)
        action = actions[request.pop("action")]
        try:
            answer = action(**request)
        except Exception as error:  # reported, and the harness drops this library's step
            answer = {"error": describe_error(error)}
        answers.write(json.dumps(answer) + "\n")
        answers.flush()


def main(arguments: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("library")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--quick", action="store_true")
    options = parser.parse_args(arguments)
    answers = os.fdopen(os.dup(sys.stdout.fileno()), "w")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())  # what a library prints stays off the pipe
    pin_threads(options.threads)
    use_repository_sources()
    serve(Worker(options.library, options.threads, options.quick), sys.stdin, answers)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
