"""``warcforge sample DIR``: write the deterministic sample WARC shards."""

import argparse
import sys

from sample_crawl.corpus import DEFAULT_SEED, write_sample


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="warcforge sample", description=write_sample.__doc__, formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="""examples:
  warcforge sample sample/
  warcforge build --config configs/sample.yaml --input 'sample/*.warc.gz' --output out/""")
    parser.add_argument("directory", help="where to write sample-0000N.warc.gz and sample-index.json")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help=f"random seed (default {DEFAULT_SEED})")
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    try:
        paths = write_sample(args.directory, args.seed)
    except OSError as exc:
        where = exc.filename or args.directory
        print(f"warcforge sample: error: cannot write {where}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    total = sum(p.stat().st_size for p in paths)
    print(f"warcforge sample: wrote {len(paths)} shards ({total / 1e6:.1f} MB) to {args.directory} (seed {args.seed})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
