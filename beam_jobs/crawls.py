"""``warcforge crawls``: the Common Crawl crawls there are, newest first."""

import argparse
import json
import logging
import os
import sys

from transforms.common.errors import WarcforgeError
from transforms.reading.common_crawl import INDEX_URL, list_crawls
from transforms.reading.resumable_file import RetryPolicy

INDEX_URL_VARIABLE = "WARCFORGE_CC_INDEX_URL"


def positive_int(text: str) -> int:
    """argparse ``type=``: a count of at least one (``--limit 0`` or ``-1`` would not limit as read)."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, not {text!r}")
    return value


def show_retries() -> None:
    """Retry lines from the reader on stderr, as ``warcforge build`` shows them: a slow index is not a hung one."""
    logger = logging.getLogger("warcforge")
    logger.setLevel(logging.INFO)
    if not logger.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("warcforge: %(message)s"))
        logger.addHandler(handler)
        logger.propagate = False


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="warcforge crawls", description="List Common Crawl's crawls, newest first.",
        formatter_class=argparse.RawDescriptionHelpFormatter, epilog="""examples:
  warcforge crawls --limit 5
  warcforge crawls --json | jq -r .id""")
    parser.add_argument("--index-url", default=os.environ.get(INDEX_URL_VARIABLE, INDEX_URL),
                        help=f"collinfo.json to read (default: ${INDEX_URL_VARIABLE}, else {INDEX_URL})")
    parser.add_argument("--limit", type=positive_int, default=None, metavar="N",
                        help="show only the newest N (default: all)")
    parser.add_argument("--json", action="store_true", help="one JSON object per line")
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    show_retries()
    try:
        crawls = list_crawls(args.index_url, RetryPolicy())
    except WarcforgeError as exc:
        print(f"warcforge: error: {exc}", file=sys.stderr)
        return 2
    for crawl in crawls[: args.limit]:
        if args.json:
            print(json.dumps(vars(crawl)))
        else:
            window = f"{crawl.start[:10]} .. {crawl.end[:10]}" if crawl.start else ""
            print(f"{crawl.id:<22} {window:<24} {crawl.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
