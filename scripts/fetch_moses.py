"""Fetch the MOSES benchmark data into the cache (pip download of the molsets wheel).

    python scripts/fetch_moses.py [--cache-dir DIR]

Prints where each file went. Exit 1 with one line on stderr when pip cannot
reach a package index.
"""
from __future__ import annotations

import argparse
import sys

from seqvae.molecules.chem.errors import ChemError
from seqvae.molecules.chem.moses_data import MOSES_PACKAGE, fetch_moses, moses_cache_dir


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache-dir", default=None,
                        help=f"folder for the files (default {moses_cache_dir()})")
    args = parser.parse_args(argv)
    print(f"fetching {MOSES_PACKAGE} with pip (about 50 MB) ...", file=sys.stderr)
    try:
        files = fetch_moses(args.cache_dir)
    except ChemError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    for name, path in files.items():
        print(f"{name}\t{path}\t{path.stat().st_size} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
