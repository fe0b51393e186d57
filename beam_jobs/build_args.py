"""``warcforge build``'s command line: its own flags, Beam's pipeline options, and nothing else.

Beam's convention is to pass every flag a program does not know to Beam, which drops what it
does not know either, with a warning. Here a flag is accepted only if it is one of ours or one
of Beam's options (every ``PipelineOptions`` class's flags, as Beam itself would parse them); a
typo (``--overwirte``, ``--inputs``) or a stray argument (the second file of an unquoted glob) is
refused with its name, before any work.
"""

import argparse
import difflib

from transforms.common.errors import WarcforgeError

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_FAILED_SHARDS = 3
EXIT_INCOMPLETE = 4
EXIT_INTERRUPTED = 130
EXIT_TERMINATED = 143

# One table for every command ('warcforge --help' prints it, and 'warcforge build --help'); a command's own
# help may narrow it (verify.EXIT_CODES, inspect.EXIT_CODES: a subset, with their meaning of 1).
EXIT_CODES = f"""exit status:
  {EXIT_OK}    the dataset was built and published; refresh: every selected crawl (or none was new);
       verify: the dataset is as its manifest says; the other commands: done
  {EXIT_FAILED}    the pipeline failed (or a file failed with read.on_shard_failure: fail); nothing was published
       verify: problems were found, one line each on stdout
       inspect: the document (--id) or filter reason (--reason) asked for is not in the dataset
  {EXIT_USAGE}    a user error found before any work: bad recipe, flag, path, an input that is not an
       archive, an output directory in the way or in use by another build, a DIR with no manifest
  {EXIT_FAILED_SHARDS}    published, but some input files failed and were skipped (read.on_shard_failure: skip)
  {EXIT_INCOMPLETE}    materialize: published, but some pointed documents could not be fetched or did not match
       (listed in missing/)
  {EXIT_INTERRUPTED}  interrupted (Ctrl-C); {EXIT_TERMINATED} terminated (SIGTERM); nothing was published"""

BUILD_EXAMPLES = """examples:
  warcforge build --config configs/sample.yaml --output out/
  warcforge build --config recipe.yaml --input 'crawl/*.warc.gz' --output s3://bucket/ds --overwrite
  warcforge build --lock ds.lock --output out/ --input-root /mirror/commoncrawl
  warcforge build --config recipe.yaml --output out/ --direct_num_workers 8 --quiet"""


class UsageError(WarcforgeError):
    """A flag or argument the build does not know."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="warcforge build", allow_abbrev=False, formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Turn WARC/WET/ARC shards into deduplicated, deterministic Parquet training shards. "
        "Beam pipeline options (--runner, --direct_num_workers, ...) are accepted too; any other flag is refused.",
        epilog=f"{BUILD_EXAMPLES}\n\n{EXIT_CODES}",
    )
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--config", help="recipe YAML file, e.g. configs/sample.yaml")
    source.add_argument("--lock", metavar="LOCK", help="build exactly what a lock names ('warcforge lock'); refused "
                        "before any work if a package version, URL list or input file differs")
    parser.add_argument("--output", required=True, help="output directory (local path or fsspec URL)")
    parser.add_argument(
        "--input", action="append", metavar="PATH_OR_URL",
        help="input file, glob or URL; repeatable; replaces the recipe's input.paths (quote globs)",
    )
    parser.add_argument(
        "--input-root", metavar="FOLDER_OR_URL",
        help="with --input: the folder documents' warc_path is recorded relative to (default: the deepest folder "
        "holding every input); with --lock: where the locked files lie now (a crawl's base, or their root)",
    )
    parser.add_argument(
        "--pointers", action="store_true",
        help="write a pointer dataset (as output.format: pointers): per document where its record lies and its text's "
        "sha256, no text; 'warcforge materialize' rebuilds the documents",
    )
    parser.add_argument(
        "--allow-drift", action="store_true",
        help="with --lock: build even if this machine differs from the lock, and list each difference in the manifest",
    )
    parser.add_argument(
        "--overwrite", action="store_true",
        help="replace the warcforge dataset in --output (default: refuse a directory that holds one)",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress lines, only the summary and errors")
    parser.add_argument("--progress", choices=("auto", "bar", "log", "none"), default="auto",
                        help="while it runs: a live bar (on a terminal), a line every 30 s, or nothing; auto: a bar on "
                        "a terminal, else lines (default)")
    parser.add_argument("--verbose", action="store_true", help="on failure, print the whole traceback")
    parser.add_argument(
        "--dry-run", action="store_true",
        help="print the plan (files, bytes, stages, output shards, an estimate of core-hours) and stop; with the "
        "DataflowRunner also build and check the job graph; nothing is submitted, read or written",
    )
    return parser


def parse_build_args(argv: list[str]) -> tuple[argparse.Namespace, list[str]]:
    """Our flags, and the flags that are Beam's; anything else raises ``UsageError`` naming it."""
    return parse_with_beam_options(build_parser(), argv)


def parse_with_beam_options(parser: argparse.ArgumentParser, argv: list[str]) -> tuple[argparse.Namespace, list[str]]:
    """A command's own flags (``parser``) and Beam's pipeline options; anything else is a ``UsageError``."""
    args, rest = parser.parse_known_args(argv)
    _, unknown = _beam_parser().parse_known_args(rest)
    if unknown:
        raise UsageError(_describe_unknown(unknown, parser))
    return args, rest


def _beam_parser() -> argparse.ArgumentParser:
    # Beam is imported here, not above: 'warcforge --help' prints EXIT_CODES without loading it.
    from apache_beam.options import pipeline_options
    from apache_beam.options.pipeline_options import PipelineOptions

    import beam_jobs.runners  # noqa: F401 - warcforge's own pipeline option (--flink_rest_url) is declared there

    parser = pipeline_options._BeamArgumentParser(allow_abbrev=False)
    for options_class in _all_subclasses(PipelineOptions):
        if "_add_argparse_args" in options_class.__dict__:
            try:
                options_class._add_argparse_args(parser)
            except argparse.ArgumentError:
                pass  # two option classes declaring one flag: the first declaration serves
    return parser


def _all_subclasses(cls: type) -> list[type]:
    found: list[type] = []
    for sub in cls.__subclasses__():
        if sub not in found:
            found.append(sub)
            found.extend(s for s in _all_subclasses(sub) if s not in found)
    return found


def _describe_unknown(unknown: list[str], parser: argparse.ArgumentParser) -> str:
    first = unknown[0]
    if not first.startswith("-"):
        more = f" (and {len(unknown) - 1} more)" if len(unknown) > 1 else ""
        return (f"unexpected argument {first!r}{more}: {parser.prog} takes no positional arguments; pass files "
                "with --input, and quote globs so the shell does not expand them ('--input dir/*.warc.gz')")
    flag = first.split("=", 1)[0]
    ours = [option for action in parser._actions for option in action.option_strings if option.startswith("--")]
    close = difflib.get_close_matches(flag, ours, n=1, cutoff=0.75)
    hint = (f"; did you mean {close[0]}?" if close
            else f"; see '{parser.prog} --help' (Beam's pipeline options are accepted too)")
    return f"unknown option {flag}{hint}"
