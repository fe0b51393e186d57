"""``warcforge verify DIR``: check a published dataset against its manifest.

Every listed file is read once (size, sha256, Parquet row count and schema), nothing unlisted may sit
in the dataset's folders, and the counts must add up. One line per problem on stdout, then a summary.
No Beam: checking a dataset needs only the filesystem.
"""

import argparse
import sys
import traceback

import fsspec

from transforms.common.errors import WarcforgeError
from transforms.common.secrets import redact_text
from transforms.writing.dataset_check import check_dataset

EXIT_OK = 0
EXIT_PROBLEMS = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130

EXIT_CODES = f"""exit status:
  {EXIT_OK}    the dataset is as its manifest says
  {EXIT_PROBLEMS}    problems were found; each is one line on stdout
  {EXIT_USAGE}    DIR holds no warcforge manifest, or cannot be read
  {EXIT_INTERRUPTED}  interrupted (Ctrl-C)"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="warcforge verify", allow_abbrev=False, formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Check a published dataset: every file its manifest lists is there with its size, sha256, "
        "rows and schema; nothing unlisted is in its folders; its counts add up.", epilog=EXIT_CODES)
    parser.add_argument("dir", metavar="DIR", help="the dataset's directory (local path or fsspec URL)")
    parser.add_argument("--verbose", action="store_true", help="on an error, print the whole traceback")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(sys.argv[1:] if argv is None else argv)
    shown = redact_text(args.dir)  # a URL may carry credentials: never print it as given
    try:
        fs, root = fsspec.core.url_to_fs(args.dir)
        fs.invalidate_cache()  # a filesystem instance fsspec cached earlier must not answer from old listings
        check = check_dataset(fs, root)
    except KeyboardInterrupt:
        print("warcforge: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as exc:  # noqa: BLE001 - whatever stops the check is one line naming DIR, not a trace
        if args.verbose:
            traceback.print_exc()
        reason = str(exc) if isinstance(exc, WarcforgeError) else f"cannot be read ({type(exc).__name__}: {exc})"
        print(redact_text(f"warcforge: error: {shown}: {reason}"), file=sys.stderr)
        return EXIT_USAGE
    for problem in check.problems:
        print(redact_text(problem))
    if check.problems:
        n = len(check.problems)
        print(f"verify: {shown}: {n} problem{'s' if n != 1 else ''}")
        return EXIT_PROBLEMS
    print(f"verify: {shown}: ok, {check.files} files, {check.documents} documents, checked sha256, rows and schema")
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
