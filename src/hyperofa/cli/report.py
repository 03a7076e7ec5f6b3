"""`hyperofa-report <run or multirun dir> [--out DIR]`: tables and plots of a run or sweep."""

from __future__ import annotations

import argparse
import logging

from hyperofa.cli.common import task_wrapper


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="hyperofa-report",
        description="Write report.md, per-language CSVs and PNG plots from every result.json "
        "under a run or multirun dir.",
    )
    parser.add_argument("dir", help="a run dir, or a multirun dir with job dirs 0/, 1/, …")
    parser.add_argument("--out", default=None, help="where to write (default: <dir>/report)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    from hyperofa.report import write_report  # after argparse, so --help needs no matplotlib

    report = task_wrapper(lambda: write_report(args.dir, args.out))
    print(report.table)
    for path in report.files:
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
