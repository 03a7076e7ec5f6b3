"""`hyperofa-merge <factorized dir> <out dir>`: a factorized model as a plain one in its source
architecture's own format (embeddings = coordinates × primitives), with its tokenizer."""

from __future__ import annotations

import argparse
import logging

from hyperofa.cli.common import task_wrapper


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="hyperofa-merge",
        description="Merge a factorized model (coordinates × primitives) into a plain masked LM "
        "that AutoModelForMaskedLM loads without remote code.",
    )
    parser.add_argument("factorized_dir", help="a dir written for a FactorizedForMaskedLM")
    parser.add_argument("out_dir", help="where to write the plain model (must not exist)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    from hyperofa.models import merge_dir  # after argparse, so --help needs no torch

    merged = task_wrapper(lambda: merge_dir(args.factorized_dir, args.out_dir))
    rows = merged.get_input_embeddings().weight
    print(
        f"merge: {type(merged).__name__}, {rows.shape[0]:,} × {rows.shape[1]} embeddings, "
        f"wrote {args.out_dir}"
    )


if __name__ == "__main__":
    main()
