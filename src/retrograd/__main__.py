"""Command line: `python -m retrograd tour` runs the seed article's examples."""

from __future__ import annotations

import argparse
import sys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m retrograd", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    tour = commands.add_parser("tour", help="run every example of the seed article")
    tour.add_argument("--step", type=int, default=None, help="run only this step")
    arguments = parser.parse_args(argv)
    if arguments.command == "tour":
        from ._tour import run_tour

        return 0 if run_tour(only=arguments.step) else 1
    return 2


if __name__ == "__main__":
    sys.exit(main())
