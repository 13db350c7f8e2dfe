"""Command line: `python -m retrograd tour` runs the seed article's examples;
`python -m retrograd ops-doc` prints the operators page generated from the op table."""

from __future__ import annotations

import argparse
import sys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m retrograd", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    tour = commands.add_parser("tour", help="run every example of the seed article")
    tour.add_argument("--step", type=int, default=None, help="show only this step (1, 2, ...)")
    tour.add_argument(
        "--pictures",
        default="retrograd-tour",
        help="folder for the pictures of the seed's graphs and the explorer page (default: %(default)s)",
    )
    tour.add_argument("--no-pictures", action="store_true", help="do not write pictures")
    commands.add_parser("ops-doc", help="print docs/operators.md, generated from the op table")
    commands.add_parser("derivatives-doc", help="print docs/derivatives.md, from the op declarations")
    arguments = parser.parse_args(argv)
    if arguments.command == "tour":
        from ._tour import STEPS, run_tour

        if arguments.step is not None and not 1 <= arguments.step <= len(STEPS):
            tour.error(f"--step must be between 1 and {len(STEPS)}, got {arguments.step}")

        pictures = None if arguments.no_pictures else arguments.pictures
        return 0 if run_tour(only=arguments.step, pictures=pictures) else 1
    if arguments.command == "ops-doc":
        from ._operators_page import operators_markdown

        sys.stdout.write(operators_markdown())
        return 0
    if arguments.command == "derivatives-doc":
        from .ops._derivatives_doc import derivatives_markdown

        sys.stdout.write(derivatives_markdown())
        return 0
    return 2


if __name__ == "__main__":
    sys.exit(main())
