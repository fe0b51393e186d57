"""``warcforge inspect DIR``: what a published dataset holds, in the terminal.

Reads only the manifest and the Parquet files (fsspec and pyarrow, no Beam): the documents' schema,
each file with its rows and bytes per section, the funnel (each stage's in, out and every reason it
dropped documents for, as the manifest counts them), and a few sample documents with their
provenance. ``--id`` prints one document whole; ``--reason`` samples the rejected documents one
filter reason dropped (``filters.rejected_sample_rate`` keeps them in ``rejected/``).

Samples are deterministic: every file is sorted by id, so the first documents by id across the
dataset are the smallest of each file's first ones; ``--seed`` draws others, the same for the same seed.
Printed with ``rich``: colours on a terminal, plain text of a fixed width (``--width``, default 100)
when stdout is not one.
"""

import argparse
import bisect
import datetime
import heapq
import itertools
import json
import os
import random
import sys
import traceback
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import fsspec
import pyarrow.parquet as pq
from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from transforms.common import reasons
from transforms.common.errors import WarcforgeError
from transforms.common.secrets import redact_message, redact_text
from transforms.writing.publish import MANIFEST, is_manifest

EXIT_OK = 0
EXIT_NOT_FOUND = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130

EXIT_CODES = f"""exit status:
  {EXIT_OK}    printed
  {EXIT_NOT_FOUND}    the document (--id) or the reason (--reason) asked for is not in the dataset
  {EXIT_USAGE}    DIR holds no warcforge manifest, or cannot be read; or a bad option
  {EXIT_INTERRUPTED}  interrupted (Ctrl-C)"""

EXAMPLES = """examples:
  warcforge inspect out/                           schema, files, funnel and 5 sample documents
  warcforge inspect s3://bucket/cc-2025 --sample 20 --seed 7
  warcforge inspect out/ --id 06eb829a8341e7be27cdcc0927197c4d
  warcforge inspect out/ --reason gopher_stop_words | less"""

# beam_jobs.run_report.STAGES, which imports Beam; tests/test_inspect.py checks that the two agree.
STAGES = (reasons.READ, reasons.EXTRACT, reasons.FILTER, reasons.C4_LINES, reasons.DEDUP_URL, reasons.DEDUP_EXACT,
          reasons.NEAR_DEDUP, reasons.CROSS_CRAWL, reasons.PII, reasons.WRITE, reasons.POINTERS)
DEFAULT_WIDTH = 100
TEXT_LINES = 3  # a sample's text, cut to this many lines of the width
SAMPLE_COLUMNS = ("id", "url", "language", "warc_path", "warc_offset", "text", "filter_stage", "filter_reason")
READERS = 16  # files read at once: a remote dataset's files are read in parallel


class NotADatasetError(WarcforgeError):
    """DIR holds no warcforge manifest."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="warcforge inspect", allow_abbrev=False, formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Show what a published dataset holds: the documents' schema, each file with its rows and bytes,\n"
        "the funnel (per stage: in, out and each reason documents were dropped for) and sample documents\n"
        "with their provenance. Reads the manifest and the Parquet files only.",
        epilog=f"{EXAMPLES}\n\n{EXIT_CODES}")
    parser.add_argument("dir", metavar="DIR", help="the dataset's directory (local path or fsspec URL)")
    parser.add_argument("--sample", type=_count, default=5, metavar="N",
                        help="how many sample documents to show (default 5; 0 shows none)")
    parser.add_argument("--seed", type=int, metavar="S",
                        help="draw the samples at random with this seed (default: the first documents by id)")
    parser.add_argument("--width", type=_width, metavar="W",
                        help=f"columns to print in (default: the terminal's; {DEFAULT_WIDTH} when not a terminal)")
    found = parser.add_mutually_exclusive_group()
    found.add_argument("--id", metavar="ID", help="print this one document whole: every column, all of its text")
    found.add_argument("--reason", metavar="REASON",
                       help="sample the rejected documents (rejected/) dropped for REASON instead, e.g. "
                       "gopher_stop_words")
    parser.add_argument("--verbose", action="store_true", help="on an error, print the whole traceback")
    return parser


def _count(value: str) -> int:
    number = int(value)
    if number < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {value}")
    return number


def _width(value: str) -> int:
    number = int(value)
    if number < 40:
        raise argparse.ArgumentTypeError(f"must be 40 or more, got {value}")
    return number


class NotFound(Exception):
    """What was asked for is not in the dataset: exit 1 with this message."""


class Dataset:
    """A published dataset: its manifest, and its Parquet files read on demand."""

    def __init__(self, url: str) -> None:
        self.shown = redact_text(url)  # a URL may carry credentials: never print it as given
        self.fs, root = fsspec.core.url_to_fs(url)
        self.fs.invalidate_cache()  # a filesystem instance fsspec cached earlier must not answer from old listings
        self.root = root.rstrip("/")
        try:
            raw = self.fs.cat_file(f"{self.root}/{MANIFEST}")
        except FileNotFoundError:
            raise NotADatasetError(f"holds no {MANIFEST}: not a warcforge dataset") from None
        try:
            manifest = json.loads(raw)
        except ValueError as exc:
            raise NotADatasetError(f"{MANIFEST} is not JSON ({exc})") from None
        if not is_manifest(manifest):
            raise NotADatasetError(f"{MANIFEST} is not a warcforge manifest")
        self.manifest = manifest
        self.files: dict[str, list[dict]] = manifest["files"]
        pointers = "pointers" in self.files
        self.documents = "pointers" if pointers else "data"  # the section the dataset's documents are in
        self.rejected = "rejected_pointers" if pointers else "rejected"

    def with_rows(self, section: str) -> list[dict]:
        return [f for f in self.files.get(section, []) if f.get("rows")]

    def parquet(self, relative: str) -> "_ParquetReader":
        return _ParquetReader(self.fs, f"{self.root}/{relative}")


class _ParquetReader:
    # Reads without pyarrow's thread pool: with it, pyarrow 23 can abort at interpreter exit after reading
    # from an fsspec file object (about half the runs that end right after a read, e.g. an unknown --reason).
    def __init__(self, fs: fsspec.AbstractFileSystem, path: str) -> None:
        self.fs, self.path = fs, path

    def schema(self) -> list[tuple[str, str, bool]]:
        with self.fs.open(self.path, "rb") as stream:
            return [(f.name, str(f.type), f.nullable) for f in pq.ParquetFile(stream, pre_buffer=False).schema_arrow]

    def head(self, n: int, columns: list[str]) -> list[dict]:
        """The first ``n`` rows: only the first row group's chunks of ``columns`` are read."""
        with self.fs.open(self.path, "rb") as stream:
            parquet = pq.ParquetFile(stream, pre_buffer=False)
            for batch in parquet.iter_batches(batch_size=n, columns=columns, use_threads=False):
                return batch.to_pylist()
        return []

    def columns(self, columns: list[str]) -> list[dict]:
        with self.fs.open(self.path, "rb") as stream:
            return pq.ParquetFile(stream, pre_buffer=False).read(columns=columns, use_threads=False).to_pylist()

    def find(self, column: str, value: str) -> list[int]:
        """The rows whose ``column`` is ``value``; a row group whose statistics rule it out is not read."""
        with self.fs.open(self.path, "rb") as stream:
            parquet = pq.ParquetFile(stream, pre_buffer=False)
            leaf = parquet.schema_arrow.get_field_index(column)  # a flat schema: one leaf per field
            found, start = [], 0
            for group in range(parquet.metadata.num_row_groups):
                meta = parquet.metadata.row_group(group)
                stats = meta.column(leaf).statistics
                if stats is None or not stats.has_min_max or stats.min <= value <= stats.max:
                    values = parquet.read_row_group(group, columns=[column], use_threads=False).column(0).to_pylist()
                    found += [start + i for i, v in enumerate(values) if v == value]
                start += meta.num_rows
            return found

    def rows(self, indices: list[int], columns: list[str] | None = None) -> list[dict]:
        """The rows at ``indices`` (in the file), in that order; only their row groups are read."""
        with self.fs.open(self.path, "rb") as stream:
            parquet = pq.ParquetFile(stream, pre_buffer=False)
            if columns is not None:
                columns = [c for c in columns if c in parquet.schema_arrow.names]
            starts, start = [], 0
            for group in range(parquet.metadata.num_row_groups):
                starts.append(start)
                start += parquet.metadata.row_group(group).num_rows
            wanted = sorted({_group_of(starts, i) for i in indices})
            table = parquet.read_row_groups(wanted, columns=columns, use_threads=False)
            offsets, offset = {}, 0
            for group in wanted:
                offsets[group] = offset
                offset += parquet.metadata.row_group(group).num_rows
            return table.take([offsets[g] + i - starts[g] for i in indices for g in [_group_of(starts, i)]]).to_pylist()


def _group_of(starts: list[int], index: int) -> int:
    return max(g for g, start in enumerate(starts) if start <= index)


def _parallel(function: object, items: list) -> list:
    if len(items) <= 1:
        return [function(item) for item in items]
    with ThreadPoolExecutor(min(READERS, len(items))) as pool:
        return list(pool.map(function, items))


# --- choosing documents --------------------------------------------------------------------------

def first_by_id(dataset: Dataset, section: str, n: int) -> list[tuple[dict, dict]]:
    """The ``n`` documents of ``section`` with the smallest ids, as (file entry, row): each file is sorted by
    id, so they are among the first ``n`` of each file."""
    files = dataset.with_rows(section)
    heads = _parallel(lambda f: dataset.parquet(f["path"]).head(n, ["id"]), files)
    chosen = heapq.nsmallest(n, ((row["id"], k, i) for k, head in enumerate(heads) for i, row in enumerate(head)))
    return _fetch(dataset, files, [(k, i) for _, k, i in chosen])


def drawn(dataset: Dataset, section: str, n: int, seed: int) -> list[tuple[dict, dict]]:
    """``n`` documents of ``section`` drawn at random with ``seed``, by the row counts the manifest lists."""
    files = dataset.with_rows(section)
    starts = list(itertools.accumulate((f["rows"] for f in files), initial=0))
    chosen = random.Random(seed).sample(range(starts[-1]), min(n, starts[-1]))  # a range: no list of every row
    places = [(k, index - starts[k]) for index in chosen for k in [bisect.bisect_right(starts, index) - 1]]
    return _fetch(dataset, files, places)


def rejected_for(dataset: Dataset, reason: str, n: int, seed: int | None) -> tuple[list[tuple[dict, dict]], int]:
    """Up to ``n`` sampled rejected documents dropped for ``reason``, and how many there are."""
    if not dataset.files.get(dataset.rejected):
        raise NotFound(f"{dataset.shown} holds no {dataset.rejected}/ files: it was built without "
                       "filters.rejected_sample_rate, so no rejected document was kept")
    files = dataset.with_rows(dataset.rejected)
    tables = _parallel(lambda f: dataset.parquet(f["path"]).columns(["id", "filter_reason"]), files)
    present = Counter(row["filter_reason"] for table in tables for row in table)
    if reason not in present:
        listed = ", ".join(f"{name} ({count:,})" for name, count in sorted(present.items())) or "none"
        raise NotFound(f"no rejected document with reason {reason!r} in {dataset.shown}; the reasons present in "
                       f"{dataset.rejected}/: {listed}")
    places = sorted((row["id"], k, i) for k, table in enumerate(tables) for i, row in enumerate(table)
                    if row["filter_reason"] == reason)
    if seed is None:
        chosen = places[:n]
    else:
        chosen = random.Random(seed).sample(places, min(n, len(places)))
    return _fetch(dataset, files, [(k, i) for _, k, i in chosen]), present[reason]


def find_id(dataset: Dataset, doc_id: str) -> list[tuple[str, dict, int, dict]]:
    """Every row with this id, documents first, then rejected ones: (section, file entry, row index, row)."""
    for section in (dataset.documents, dataset.rejected):
        files = dataset.with_rows(section)
        hits = _parallel(lambda f: dataset.parquet(f["path"]).find("id", doc_id), files)
        found = [(k, i) for k, indices in enumerate(hits) for i in indices]
        if found:
            rows = []
            for k in sorted({k for k, _ in found}):
                indices = [i for kk, i in found if kk == k]
                rows += [(section, files[k], i, row)
                         for i, row in zip(indices, dataset.parquet(files[k]["path"]).rows(indices), strict=True)]
            return rows
    raise NotFound(f"no document {doc_id} in {dataset.shown}")


def _fetch(dataset: Dataset, files: list[dict], places: list[tuple[int, int]]) -> list[tuple[dict, dict]]:
    """The rows at (file number, row) in ``places``, sorted by id."""
    by_file: dict[int, list[int]] = {}
    for k, i in places:
        by_file.setdefault(k, []).append(i)
    keys = sorted(by_file)
    read = _parallel(lambda k: dataset.parquet(files[k]["path"]).rows(by_file[k], list(SAMPLE_COLUMNS)), keys)
    rows = [(files[k], row) for k, file_rows in zip(keys, read, strict=True) for row in file_rows]
    return sorted(rows, key=lambda pair: (pair[1].get("id") or "", pair[1].get("warc_path") or "",
                                          pair[1].get("warc_offset") or 0))


# --- printing ------------------------------------------------------------------------------------

def make_console(width: int | None) -> Console:
    """Colours on a terminal; plain text of a fixed width otherwise, whatever FORCE_COLOR or COLUMNS say.
    Markup, emoji codes and highlighting are off: documents' text is printed as it is."""
    terminal = sys.stdout.isatty()
    return _Console(file=sys.stdout if terminal else _PlainLines(sys.stdout),
                    force_terminal=None if terminal else False, markup=False, emoji=False, highlight=False,
                    width=width or (None if terminal else DEFAULT_WIDTH))


class _Console(Console):
    def on_broken_pipe(self) -> None:
        """Rich exits 1 when the reader goes away (`| head`); main treats it as the end of the output instead."""
        raise BrokenPipeError


class _PlainLines:
    """Rich pads a table's lines to its width: in plain text the trailing spaces are noise, dropped here."""

    def __init__(self, file: object) -> None:
        self.file, self.pending = file, ""
        self.encoding = getattr(file, "encoding", "utf-8")

    def write(self, text: str) -> int:
        *lines, self.pending = (self.pending + text).split("\n")
        for line in lines:
            self.file.write(line.rstrip(" ") + "\n")
        return len(text)

    def flush(self) -> None:
        self.file.write(self.pending)
        self.pending = ""
        self.file.flush()

    def isatty(self) -> bool:
        return False

    def fileno(self) -> int:
        return self.file.fileno()


def _table(title: str, *columns: tuple[str, str]) -> Table:
    table = Table(title=title, title_justify="left", title_style="bold", box=box.SIMPLE_HEAD, pad_edge=False,
                  show_edge=False, header_style="bold")
    for name, justify in columns:
        table.add_column(name, justify=justify)
    return table


def print_overview(console: Console, dataset: Dataset) -> None:
    manifest = dataset.manifest
    recipe = manifest.get("recipe") or {}
    inputs = manifest.get("inputs") or []
    size = sum(i.get("size") or 0 for i in inputs)
    kind = "pointer dataset" if dataset.documents == "pointers" else "dataset"
    console.print(Text(f"warcforge {kind} {dataset.shown}", style="bold"))
    console.print(Text(f"  recipe     {recipe.get('name', '?')} (sha256 {str(manifest.get('recipe_sha256'))[:12]})"))
    rejected = (f"; sampled rejected {_rows(dataset, dataset.rejected):,}" if dataset.rejected in dataset.files
                else "")
    console.print(Text(f"  documents  {manifest.get('documents', 0):,}; dead letters "
                       f"{manifest.get('dead_letters', 0):,}{rejected}"))
    console.print(Text(f"  inputs     {len(inputs):,} files, {size / 1e6:,.1f} MB"
                       + (f"; {len(manifest['failed_shards'])} failed and skipped" if manifest.get("failed_shards")
                          else "")))
    console.print()


def _rows(dataset: Dataset, section: str) -> int:
    return sum(f.get("rows") or 0 for f in dataset.files.get(section, []))


def print_schema(console: Console, dataset: Dataset) -> None:
    files = dataset.files.get(dataset.documents) or []
    if not files:
        console.print(Text(f"schema: {dataset.documents}/ holds no files", style="bold"))
        console.print()
        return
    table = _table(f"schema ({files[0]['path']})", ("column", "left"), ("type", "left"), ("null", "left"))
    for name, type_, nullable in dataset.parquet(files[0]["path"]).schema():
        table.add_row(Text(name), Text(type_), Text("nullable" if nullable else "not null"))
    console.print(table)
    console.print()


def print_files(console: Console, dataset: Dataset) -> None:
    for section, files in dataset.files.items():
        table = _table(f"{section}/", ("path", "left"), ("rows", "right"), ("bytes", "right"))
        table.show_footer = bool(files)
        for f in files:
            table.add_row(Text(f["path"]), f"{f.get('rows', 0):,}", f"{f.get('bytes', 0):,}")
        if files:
            table.columns[0].footer = f"{len(files):,} file{'s' if len(files) != 1 else ''}"
            table.columns[1].footer = f"{sum(f.get('rows') or 0 for f in files):,}"
            table.columns[2].footer = f"{sum(f.get('bytes') or 0 for f in files):,}"
        else:
            table.add_row(Text("no files", style="dim"), "", "")
        console.print(table)
        console.print()


def funnel_rows(counts: dict) -> list[tuple[str, int | None, int | None, str, int | None]]:
    """(stage, in, out, reason, count): a stage's first line has its in and out, then a line per counter,
    drops first by count; counters that are not drops (files, kept documents) are marked so."""
    stages = [s for s in STAGES if s in counts] + [s for s in counts if s not in STAGES and s != reasons.LANGUAGES]
    lines = []
    for stage in stages:
        by = counts[stage]
        others = [(name, n) for name, n in by.items() if name not in (reasons.IN, reasons.OUT)]
        others.sort(key=lambda item: (item[0] in reasons.NOT_DROPS, -item[1], item[0]))
        first = True
        for name, n in others or [("", None)]:
            label = f"{name} (not a drop)" if name in reasons.NOT_DROPS else name
            lines.append((stage if first else "", by.get(reasons.IN) if first else None,
                          by.get(reasons.OUT) if first else None, label, n))
            first = False
    return lines


def print_funnel(console: Console, dataset: Dataset) -> None:
    counts = dataset.manifest.get("counts") or {}
    table = _table("funnel (manifest counts)", ("stage", "left"), ("in", "right"), ("out", "right"),
                   ("reason", "left"), ("count", "right"))
    previous = None
    for stage, n_in, n_out, reason, n in funnel_rows(counts):
        if stage and previous is not None:
            table.add_section()
        previous = stage or previous
        table.add_row(Text(stage, style="bold"), _number(n_in), _number(n_out),
                      Text(reason, style="dim" if reason.endswith("(not a drop)") else ""), _number(n))
    console.print(table)
    languages = counts.get(reasons.LANGUAGES)
    if languages:
        by_count = sorted(languages.items(), key=lambda item: (-item[1], item[0]))
        shown = ", ".join(f"{name} {n:,}" for name, n in by_count)
        console.print(Text(f"languages: {shown}"))
    console.print()


def _number(n: int | None) -> str:
    return "" if n is None else f"{n:,}"


def print_samples(console: Console, title: str, samples: list[tuple[dict, dict]]) -> None:
    console.print(Text(title, style="bold"))
    if not samples:
        console.print(Text("  none", style="dim"))
    width = console.width
    for number, (entry, row) in enumerate(samples, 1):
        console.print()
        head = Text()
        head.append(f"{number}. ", style="bold")
        head.append(str(row.get("id")), style="bold cyan")
        head.append(f"  {row.get('language') or '-'}  ")
        head.append(str(row.get("url") or "-"), style="underline")
        head.truncate(width, overflow="ellipsis")
        console.print(head, soft_wrap=True)
        where = Text(f"   {row.get('warc_path')} @ {row.get('warc_offset')}", style="dim")
        if row.get("filter_reason"):
            where.append(f"  {row.get('filter_stage')}: {row['filter_reason']}", style="yellow")
        where.append(f"  ({entry['path']})", style="dim")
        where.truncate(width, overflow="ellipsis")
        console.print(where, soft_wrap=True)
        if "text" in row:
            for line in cut_text(console, row["text"] or "", width - 3, TEXT_LINES):
                console.print(Text("   ") + line, soft_wrap=True)
    console.print()


def cut_text(console: Console, text: str, width: int, lines: int) -> list[Text]:
    """``text`` on at most ``lines`` lines of ``width`` cells, its whitespace collapsed; "…" ends a cut one."""
    wrapped = Text(" ".join(text.split())).wrap(console, width)
    kept = list(wrapped)[:lines]
    if len(wrapped) > lines and kept:
        last = kept[-1]
        last.rstrip()
        if last.cell_len > width - 1:
            last.truncate(width - 1)
        last.append("…")
    return kept


def print_document(console: Console, section: str, entry: dict, index: int, row: dict) -> None:
    console.print(Text(f"document {row.get('id')}", style="bold")
                  + Text(f"  ({section}: {entry['path']}, row {index})", style="dim"), soft_wrap=True)
    names = [name for name in row if name != "text"]
    pad = max((len(name) for name in names), default=0)
    for name in names:
        console.print(Text(f"  {name:<{pad}}  ", style="bold") + Text(show_value(row[name])), soft_wrap=True)
    if "text" in row:
        text = row["text"] or ""
        console.print(Text(f"text ({len(text):,} characters):", style="bold"))
        console.file.flush()
        sys.stdout.write((text if not console.is_terminal else _printable(text)) + "\n")  # as it is: not wrapped
        sys.stdout.flush()


def show_value(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, datetime.datetime):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False, default=str)
    return str(value)


def _printable(text: str) -> str:
    """On a terminal, a document's control characters (an escape sequence in a crawled page) are shown, not run."""
    return "".join(c if c in "\n\t" or (c.isprintable() and not 0x80 <= ord(c) < 0xA0) else f"\\x{ord(c):02x}"
                   if ord(c) < 0x100 else f"\\u{ord(c):04x}" for c in text)


# --- the command ---------------------------------------------------------------------------------

def run(args: argparse.Namespace, console: Console) -> int:
    dataset = Dataset(args.dir)
    if args.id is not None:
        for section, entry, index, row in find_id(dataset, args.id):
            print_document(console, section, entry, index, row)
        return EXIT_OK
    if args.reason is not None:
        samples, total = rejected_for(dataset, args.reason, args.sample, args.seed)
        how = "first by id" if args.seed is None else f"drawn with seed {args.seed}"
        print_samples(console, f"{len(samples)} of {total:,} sampled rejected documents with reason {args.reason} "
                      f"in {dataset.shown} ({how})", samples)
        return EXIT_OK
    print_overview(console, dataset)
    print_schema(console, dataset)
    print_files(console, dataset)
    print_funnel(console, dataset)
    if args.sample:
        section = dataset.documents
        if args.seed is None:
            samples, how = first_by_id(dataset, section, args.sample), "first by id"
        else:
            samples, how = drawn(dataset, section, args.sample, args.seed), f"drawn with seed {args.seed}"
        print_samples(console, f"{len(samples)} sample document{'s' if len(samples) != 1 else ''} of "
                      f"{_rows(dataset, section):,} ({how}; --id ID prints one whole)", samples)
    return EXIT_OK


def _redact(message: str, url: str) -> str:
    return redact_message(message, url)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(sys.argv[1:] if argv is None else argv)
    shown = redact_text(args.dir)
    console = make_console(args.width)
    try:
        return run(args, console)
    except KeyboardInterrupt:
        print("warcforge: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # `warcforge inspect DIR | head`: the reader has what it wanted
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # nothing more to flush at exit
        return EXIT_OK
    except NotFound as exc:
        print(_redact(f"warcforge: error: {exc}", args.dir), file=sys.stderr)
        return EXIT_NOT_FOUND
    except Exception as exc:  # noqa: BLE001 - whatever stops it is one line naming DIR, not a trace
        if args.verbose:
            traceback.print_exc()
        reason = str(exc) if isinstance(exc, WarcforgeError) else f"cannot be read ({type(exc).__name__}: {exc})"
        print(_redact(f"warcforge: error: {shown}: {' '.join(reason.split())}", args.dir), file=sys.stderr)  # one line
        return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
