"""``warcforge crawls``: the Common Crawl crawls there are, newest first."""

import argparse
import json
import os
import sys

from transforms.common.errors import WarcforgeError
from transforms.reading.common_crawl import INDEX_URL, list_crawls
from transforms.reading.resumable_file import RetryPolicy

INDEX_URL_VARIABLE = "WARCFORGE_CC_INDEX_URL"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="warcforge crawls", description="List Common Crawl's crawls, newest first.")
    parser.add_argument("--index-url", default=os.environ.get(INDEX_URL_VARIABLE, INDEX_URL),
                        help=f"collinfo.json to read (default: ${INDEX_URL_VARIABLE}, else {INDEX_URL})")
    parser.add_argument("--limit", type=int, default=0, help="show only the newest N")
    parser.add_argument("--json", action="store_true", help="one JSON object per line")
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    try:
        crawls = list_crawls(args.index_url, RetryPolicy())
    except WarcforgeError as exc:
        print(f"warcforge: error: {exc}", file=sys.stderr)
        return 2
    for crawl in crawls[: args.limit or None]:
        if args.json:
            print(json.dumps(vars(crawl)))
        else:
            window = f"{crawl.start[:10]} .. {crawl.end[:10]}" if crawl.start else ""
            print(f"{crawl.id:<22} {window:<24} {crawl.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
