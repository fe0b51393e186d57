"""``warcforge verify DIR [--rebuild N]``: check a published dataset against its manifest.

Every listed file is read once (size, sha256, Parquet row count and schema), nothing unlisted may sit
in the dataset's folders, and the counts must add up. One line per problem on stdout, then a summary.
These checks need only the filesystem; ``--rebuild N`` also builds N input files again (Beam, see
``verify_rebuild``) and finds their documents in the dataset.
"""

import argparse
import json
import sys
import traceback

import fsspec

from transforms.common.errors import WarcforgeError
from transforms.common.secrets import redact_message, redact_text
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
        "rows and schema; nothing unlisted is in its folders; its counts add up.",
        epilog=f"""examples:
  warcforge verify out/
  warcforge verify s3://bucket/ds --rebuild 2 --seed 1

{EXIT_CODES}""")
    parser.add_argument("dir", metavar="DIR", help="the dataset's directory (local path or fsspec URL)")
    parser.add_argument("--rebuild", type=_positive, metavar="N",
                        help="also build N input files again, chosen by --seed, with the dataset's recipe (and lock), "
                        "and check that their documents are published byte for byte and none is missing")
    parser.add_argument("--seed", type=int, default=0, help="which files --rebuild chooses (default 0)")
    parser.add_argument("--input-root", metavar="FOLDER_OR_URL",
                        help="with --rebuild: where the input files lie now (a crawl's base, or their root)")
    parser.add_argument("--verbose", action="store_true", help="on an error, print the whole traceback")
    return parser


def _positive(value: str) -> int:
    number = int(value)
    if number < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more, got {value}")
    return number


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(sys.argv[1:] if argv is None else argv)
    shown = redact_text(args.dir)  # a URL may carry credentials: never print it as given
    try:
        fs, root = fsspec.core.url_to_fs(args.dir)
        fs.invalidate_cache()  # a filesystem instance fsspec cached earlier must not answer from old listings
        check = check_dataset(fs, root)
        rebuilt: list[str] = []
        if args.rebuild and not check.problems:
            from beam_jobs.verify_rebuild import verify_by_rebuild  # Beam: loaded only when asked for

            manifest = json.loads(fs.cat_file(f"{root.rstrip('/')}/manifest.json"))
            problems, rebuilt = verify_by_rebuild(args.dir.rstrip("/"), manifest, args.rebuild, args.seed,
                                                  args.input_root, [])
            check.problems += problems
    except KeyboardInterrupt:
        print("warcforge: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as exc:  # noqa: BLE001 - whatever stops the check is one line naming DIR, not a trace
        if args.verbose:
            traceback.print_exc()
        reason = str(exc) if isinstance(exc, WarcforgeError) else f"cannot be read ({type(exc).__name__}: {exc})"
        print(redact_message(f"warcforge: error: {shown}: {reason}", args.dir), file=sys.stderr)
        return EXIT_USAGE
    for problem in check.problems:
        print(redact_text(problem))
    if check.problems:
        n = len(check.problems)
        print(f"verify: {shown}: {n} problem{'s' if n != 1 else ''}")
        return EXIT_PROBLEMS
    print(f"verify: {shown}: ok, {check.files} files, {check.documents} documents, checked sha256, rows and schema"
          + (f"; rebuilt {', '.join(rebuilt)}: every document published as built" if rebuilt else ""))
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
