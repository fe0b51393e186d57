"""``warcforge``: the command-line entry point (build, sample)."""

import sys

from beam_jobs import build, crawls, sample

USAGE = """usage: warcforge <command> [options]

commands:
  build   --config RECIPE --output DIR [--input PATH_OR_URL ...] [--overwrite] [Beam options]
          turn WARC shards into deduplicated Parquet training shards
  sample  DIR [--seed N]
          write the deterministic sample WARC shards into DIR
  crawls  [--index-url URL] [--limit N] [--json]
          list Common Crawl's crawls, newest first

'warcforge <command> --help' describes a command."""


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] in ("-h", "--help"):
        print(USAGE)
        return 0 if argv else 2
    command, rest = argv[0], argv[1:]
    if command == "build":
        return build.main(rest)
    if command == "sample":
        return sample.main(rest)
    if command == "crawls":
        return crawls.main(rest)
    print(f"warcforge: unknown command {command!r}\n\n{USAGE}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
