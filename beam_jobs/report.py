"""``warcforge report DIR [-o OUT.html]``: one self-contained HTML page about a published dataset.

The page has a summary, charts (``report_charts``: the funnel and every drop reason, languages, document
lengths, domains kept and dropped, copies, dead letters, bytes, time per stage) and tables (failed shards,
sample documents). It needs no network to be viewed: plotly.js is inlined once, in the page's head.
It is a pure function of the dataset's files (and run_info.json): the same dataset gives the same bytes.
Large sections are sampled (``report_data``); the charts' titles say how many rows they saw.
"""

import argparse
import html
import json
import posixpath
import sys
import traceback
from pathlib import Path

import fsspec
from plotly.offline import get_plotlyjs

from beam_jobs import report_charts as charts
from beam_jobs.report_data import SectionSample, read_section
from beam_jobs.report_figure import Figure
from transforms.common import reasons
from transforms.common.atomic_files import read_bytes
from transforms.common.errors import WarcforgeError
from transforms.common.secrets import redact_message, redact_text
from transforms.writing.dataset_check import NotADatasetError
from transforms.writing.publish import MANIFEST, is_manifest

EXIT_OK, EXIT_USAGE, EXIT_INTERRUPTED = 0, 2, 130
KEPT_COLUMNS = ("id", "url", "language", "text", "warc_path", "warc_offset", "duplicate_count",
                "near_dup_cluster_size")
REJECTED_COLUMNS = ("id", "url", "language", "text", "warc_path", "warc_offset", "filter_stage", "filter_reason")
CSS = """
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", "DejaVu Sans", sans-serif; color: #222; margin: 0;
       background: #f6f6f4; }
main { max-width: 1100px; margin: 0 auto; padding: 24px 32px 48px; background: #fff; }
h1 { font-size: 28px; margin: 0 0 4px; } h2 { font-size: 21px; margin: 36px 0 8px; border-bottom: 1px solid #ddd; }
.chart { margin: 12px 0 20px; } .note { color: #555; font-style: italic; margin: 6px 0 14px; }
table { border-collapse: collapse; width: 100%; margin: 8px 0 16px; font-size: 14px; }
th, td { border: 1px solid #ddd; padding: 5px 8px; text-align: left; vertical-align: top; }
th { background: #f0f0ee; }
table.summary { width: auto; } table.summary th { width: 12em; }
td.text { white-space: pre-wrap; font-size: 13px; max-width: 460px; } td.url, td.id { word-break: break-all; }
code { font-size: 13px; }
"""


def render_report(location: str, manifest: dict, run_info: dict | None = None) -> str:
    """The report's HTML for the dataset at ``location`` (a path or fsspec URL) whose manifest is ``manifest``."""
    fs, root = fsspec.core.url_to_fs(location)
    root = root.rstrip("/") or "/"
    files, counts, run_info = manifest.get("files") or {}, manifest.get("counts") or {}, run_info or {}
    pointers = "pointers" in files
    kept_files = files.get("pointers" if pointers else "data") or []
    rejected_files = files.get("rejected_pointers" if pointers else "rejected") or []
    kept = read_section(fs, root, kept_files, KEPT_COLUMNS)
    rejected = read_section(fs, root, rejected_files, REJECTED_COLUMNS)
    dead = read_section(fs, root, files.get("dead_letter") or [], ("url",), examples=0)
    n_kept, n_rejected = _rows(kept_files), _rows(rejected_files)
    no_text = ("This is a pointer dataset: its files say where each document's record lies, not its text or URL, "
               "so {what} cannot be shown. <code>warcforge materialize</code> rebuilds the documents.")

    body = [*_summary(manifest, run_info, n_rejected, rejected_files), "<h2>Funnel</h2>"]
    body.append(_chart(charts.funnel(counts, manifest.get("documents", 0)), "funnel", "No read counts recorded."))
    body.append(_chart(charts.drops(counts), "drops", "No element was dropped."))
    body += _not_drops(counts)
    body.append("<h2>Languages</h2>")
    if reasons.LANGUAGES in counts:
        body.append(_chart(charts.languages(counts[reasons.LANGUAGES]), "languages", "No documents were published."))
    else:
        body.append(_note("Language identification was off (filters.language.enabled: false): "
                          "documents carry no language."))
    body.append("<h2>Documents</h2>")
    if pointers:
        body.append(_note(no_text.format(what="document lengths")))
    else:
        body.append(_chart(charts.lengths(kept.lengths, kept.rows, n_kept), "lengths", "No documents to measure."))
    body.append(_chart(charts.copies(kept.duplicate_count, kept.near_dup_cluster_size, kept.rows, n_kept), "copies",
                       "No documents to count copies of."))
    body.append("<h2>Domains</h2>")
    if pointers:
        body.append(_note(no_text.format(what="the domains kept")))
    else:
        body.append(_chart(charts.top_domains_kept(kept.domains, kept.rows, n_kept), "domains-kept",
                           "No kept document has a URL."))
    body.append(_chart(charts.top_domains_dropped(rejected.domains, dead.domains, rejected.rows * rejected.has_url,
                                                  dead.rows * dead.has_url),
                       "domains-dropped", "No dropped document or dead letter with a URL was published "
                       "(rejected documents are published when filters.rejected_sample_rate is above 0)."))
    body.append("<h2>Dead letters and failed shards</h2>")
    body.append(_chart(charts.dead_letters(counts), "dead-letters", "No dead letters."))
    body += _failed_shards(manifest.get("failed_shards") or [])
    body.append("<h2>Bytes</h2>")
    body.append(_chart(charts.sizes(manifest.get("inputs") or [], files), "bytes", "No inputs or files listed."))
    body.append("<h2>Time</h2>")
    seconds = run_info.get("stage_seconds") if isinstance(run_info.get("stage_seconds"), dict) else None
    body.append(_chart(charts.stage_time(seconds), "stage-time", "No stage took measurable time.") if seconds
                else _note("Time per stage was not recorded for this run (run_info.json has no stage_seconds)."))
    body += _samples(kept, rejected, pointers, bool(rejected_files))
    return _page(str((manifest.get("recipe") or {}).get("name") or "warcforge dataset"), body)


def _rows(entries: list[dict]) -> int:
    return sum(e.get("rows", 0) for e in entries)


def _note(text: str) -> str:
    return f'<p class="note">{text}</p>'


def _chart(fig: Figure | None, name: str, otherwise: str) -> str:
    if fig is None:
        return _note(html.escape(otherwise))
    return f'<div class="chart" data-chart="{name}">{fig.to_div(f"chart-{name}")}</div>'


def _table(headers: list[str], rows: list[list[object]], css: list[str] | None = None) -> str:
    """An HTML table; every value escaped, whole numbers with thousands separators; ``css``: a class per column."""
    css = css or [""] * len(headers)
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    lines = "".join("<tr>" + "".join(f'<td class="{c}">{_cell(v)}</td>' if c else f"<td>{_cell(v)}</td>"
                                     for v, c in zip(row, css, strict=True)) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{lines}</tbody></table>"


def _cell(value: object) -> str:
    if value is None:
        return ""
    return f"{value:,}" if isinstance(value, int) and not isinstance(value, bool) else html.escape(str(value))


def _summary(manifest: dict, run_info: dict, n_rejected: int, rejected_files: list[dict]) -> list[str]:
    recipe = manifest.get("recipe") or {}
    inputs = manifest.get("inputs") or []
    known = [i["size"] for i in inputs if isinstance(i.get("size"), int)]
    size = f"{sum(known) / 1e6:,.1f} MB" + ("" if len(known) == len(inputs) else f" ({len(known)} sizes known)")
    pointers = "pointers" in (manifest.get("files") or {})
    rows = [("recipe sha256", manifest.get("recipe_sha256")),
            ("format", "pointers to documents (no text)" if pointers else "documents (Parquet)"),
            ("documents", manifest.get("documents", 0)),
            ("dead letters", manifest.get("dead_letters", 0)),
            *([("rejected (sampled)", n_rejected)] if rejected_files else []),
            ("inputs", f"{len(inputs):,} WARC files, {size}"),
            ("failed shards", len(manifest.get("failed_shards") or [])),
            *[(label, run_info[key]) for key, label in (("started_at", "started"), ("finished_at", "finished"),
                                                        ("seconds", "seconds")) if key in run_info],
            ("warcforge", (manifest.get("versions") or {}).get("warcforge"))]
    name = html.escape(str(recipe.get("name") or "warcforge dataset"))
    out = [f"<h1>{name}</h1>", '<p class="note">warcforge dataset report</p>']
    if recipe.get("description"):
        out.append(f"<p>{html.escape(str(recipe['description']).strip())}</p>")
    table = "".join(f"<tr><th>{html.escape(k)}</th><td>{_cell(v)}</td></tr>" for k, v in rows if v is not None)
    return [*out, f'<table class="summary"><tbody>{table}</tbody></table>']


def _not_drops(counts: dict) -> list[str]:
    """What c4_lines and pii changed in kept documents: not drops, so not in the charts."""
    lines = []
    for stage, what in ((reasons.C4_LINES, "lines removed from kept documents"),
                        (reasons.PII, "replacements in kept documents")):
        by = {r: n for r, n in sorted(counts.get(stage, {}).items()) if n}
        if by:
            listed = ", ".join(f"{html.escape(r)} {n:,}" for r, n in by.items())
            lines.append(_note(f"{stage}: {what} (not drops): {listed}."))
    return lines


def _failed_shards(failed: list[dict]) -> list[str]:
    if not failed:
        return [_note("Failed shards: none.")]
    first = ["warc_path", "reason", "offset"]
    keys = first + sorted({k for f in failed for k in f} - set(first))
    return ["<h3>Failed shards</h3>", _table(keys, [[f.get(k) for k in keys] for f in failed])]


def _samples(kept: SectionSample, rejected: SectionSample, pointers: bool, has_rejected: bool) -> list[str]:
    """A few documents of each kind in full (the text cut), evenly spaced over what was read."""
    out = ["<h2>Sample documents</h2>"]
    if pointers:
        out.append(_note("A pointer dataset holds no text or URL: the samples show where the documents lie."))
    columns = [("id", "id"), ("language", "")] if pointers else [("id", "id"), ("url", "url"), ("language", ""),
                                                                 ("text", "text")]

    def table(sample: SectionSample, extra: list[str]) -> str:
        headers = [name for name, _ in columns] + ["provenance (warc_path @ warc_offset)", *extra]
        css = [c for _, c in columns] + [""] * (1 + len(extra))
        rows = [[e.get(name) for name, _ in columns] + [f"{e.get('warc_path')} @ {e.get('warc_offset')}"]
                + [e.get(name) for name in extra] for e in sample.examples]
        return _table(headers, rows, css)

    if kept.examples:
        out += [f"<h3>Kept: {len(kept.examples)} of the {kept.rows:,} documents read</h3>", table(kept, [])]
    else:
        out.append(_note("No documents were published."))
    if rejected.examples:
        out += [f"<h3>Rejected: {len(rejected.examples)} of the {rejected.rows:,} sampled rejected documents read</h3>",
                table(rejected, ["filter_stage", "filter_reason"])]
    elif not has_rejected:
        out.append(_note("No rejected documents were published (filters.rejected_sample_rate is 0, or no filter "
                         "is on)."))
    return out


def _page(name: str, body: list[str]) -> str:
    uses_plotly = any('class="chart"' in part for part in body)
    library = (f"<script>window.PlotlyConfig = {{MathJaxConfig: 'local'}};</script>\n<script>{get_plotlyjs()}</script>"
               if uses_plotly else "")
    return "\n".join(["<!DOCTYPE html>", '<html lang="en">', "<head>", '<meta charset="utf-8">',
                      '<meta name="viewport" content="width=device-width, initial-scale=1">',
                      f"<title>warcforge report: {html.escape(name)}</title>", f"<style>{CSS}</style>", library,
                      "</head>", "<body><main>", *body, "</main></body>", "</html>", ""])


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="warcforge report", allow_abbrev=False, formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Write one self-contained HTML page about a published dataset: its funnel with every drop "
        "reason, languages, document lengths, domains kept and dropped, copies, dead letters, failed shards, "
        "bytes, time per stage and sample documents. Viewing it needs no network.",
        epilog="example:\n  warcforge report build/output -o build/output-report.html")
    parser.add_argument("dir", metavar="DIR", help="the dataset's directory (local path or fsspec URL)")
    parser.add_argument("-o", "--output", metavar="OUT.html", default="report.html",
                        help="where to write the page (default: report.html in the current directory)")
    parser.add_argument("--verbose", action="store_true", help="on an error, print the whole traceback")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(sys.argv[1:] if argv is None else argv)
    shown = redact_text(args.dir)  # a URL may carry credentials: never print it as given
    try:
        fs, root = fsspec.core.url_to_fs(args.dir)
        fs.invalidate_cache()
        root = root.rstrip("/") or "/"
        data = read_bytes(fs, posixpath.join(root, MANIFEST))
        if data is None:
            raise NotADatasetError(f"{MANIFEST} not found: not a warcforge dataset")
        manifest = json.loads(data)
        if not is_manifest(manifest):
            raise NotADatasetError(f"{MANIFEST} is not a warcforge manifest")
        info = read_bytes(fs, posixpath.join(root, "run_info.json"))
        run_info = json.loads(info) if info else None
        page = render_report(args.dir, manifest, run_info if isinstance(run_info, dict) else None)
    except KeyboardInterrupt:
        print("warcforge: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as exc:  # noqa: BLE001 - whatever stops the report is one line naming DIR, not a trace
        if args.verbose:
            traceback.print_exc()
        reason = str(exc) if isinstance(exc, WarcforgeError) else f"cannot be read ({type(exc).__name__}: {exc})"
        print(redact_message(f"warcforge: error: {shown}: {reason}", args.dir), file=sys.stderr)
        return EXIT_USAGE
    try:
        Path(args.output).write_text(page, encoding="utf-8")
    except OSError as exc:
        print(redact_text(f"warcforge: error: {args.output}: cannot be written ({exc.strerror or exc})"),
              file=sys.stderr)
        return EXIT_USAGE
    print(redact_text(args.output))
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
