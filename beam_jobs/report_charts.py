"""The charts of ``warcforge report``: one Plotly figure per question, from counts and samples.

Each builder returns a figure, or None when there is nothing to draw (the page then says so in words).
Labels that come from the data are HTML-escaped: Plotly reads ``<`` in a label as markup and shows
entities as the characters they stand for. ``Figure.to_div`` gives a figure's ``<div>`` with a fixed id and
without plotly.js, which the page carries once.
"""

import html
from collections import Counter

import numpy as np

from beam_jobs.report_figure import Figure, bar
from beam_jobs.report_figure import funnel as funnel_trace
from beam_jobs.run_report import STAGES
from transforms.common import reasons

COLORS = ("#4c78a8", "#f58518", "#54a24b", "#e45756", "#72b7b2", "#b279a2", "#eeca3b", "#9d755d", "#bab0ac",
          "#ff9da6", "#83bcb6")
STAGE_COLORS = {stage: COLORS[i % len(COLORS)] for i, stage in enumerate(STAGES)}
KEPT, DROPPED, DEAD = "#4c78a8", "#e45756", "#9d755d"
BAR_PX = 24  # height per bar of a horizontal bar chart
TOP = 20
LANGUAGES_SHOWN = 40
# Stages whose counters are not documents dropped: lines removed from kept documents, replacements, files written.
NOT_DOCUMENT_STAGES = frozenset({reasons.C4_LINES, reasons.PII, reasons.WRITE, reasons.POINTERS})
# Character-count buckets: 1-2-5 steps, lower bound included.
LENGTH_EDGES = (0, *(m * 10**e for e in range(1, 7) for m in (1, 2, 5)), 10**7)
# Buckets for duplicate_count and near_dup_cluster_size: (lowest, highest).
SECTION_ORDER = ("data", "pointers", "rejected", "rejected_pointers", "dead_letter", "index", "missing")
COPY_BUCKETS = ((1, 1), (2, 2), (3, 3), (4, 4), (5, 5), (6, 10), (11, 100), (101, 1000), (1001, None))


def _figure(title: str, height: int, **layout: object) -> Figure:
    fig = Figure()
    fig.update_layout(title={"text": title, "x": 0.005, "xanchor": "left"}, height=height,
                      margin={"l": 10, "r": 30, "t": 60, "b": 10}, font={"size": 13}, **layout)
    fig.update_xaxes(automargin=True)
    fig.update_yaxes(automargin=True)
    return fig


def _counts_axis(update: object, top: int, title: str) -> None:
    """A count axis: whole numbers only (a step of 1 while the counts are small), with thousands separators."""
    update(title=title, tickformat=",d", rangemode="tozero", **({"dtick": 1} if top <= 8 else {}))


def _e(text: object) -> str:
    return html.escape(str(text))


def _n(n: float) -> str:
    return f"{n:,}"


def funnel(counts: dict, documents: int) -> Figure | None:
    """Records read, then what each stage passed on, then the documents published."""
    read = counts.get(reasons.READ, {})
    if reasons.IN not in read:
        return None
    labels, values = ["records read"], [read[reasons.IN]]
    for stage in STAGES:
        by = counts.get(stage, {})
        if stage not in NOT_DOCUMENT_STAGES and reasons.OUT in by:
            labels.append({reasons.READ: "read: web pages", reasons.EXTRACT: "extract: documents"}.get(
                stage, f"after {stage}"))
            values.append(by[reasons.OUT])
    labels.append("published")
    values.append(documents)
    fig = _figure("From records read to documents published", 90 + 52 * len(labels), showlegend=False)
    fig.add_trace(funnel_trace(y=labels, x=values, texttemplate="%{value:,}<br>%{percentInitial:.1%}",
                            hovertemplate="%{y}: %{x:,}<extra></extra>", marker={"color": KEPT},
                            connector={"line": {"color": "#bbb"}}))
    return fig


def drops(counts: dict) -> Figure | None:
    """Every reason a stage dropped elements for, one bar each, in pipeline order (log scale: 1 and 100,000 show)."""
    rows = []
    for stage in STAGES:
        if stage in NOT_DOCUMENT_STAGES:
            continue
        by = {r: n for r, n in counts.get(stage, {}).items() if r not in reasons.NOT_DROPS and n > 0}
        rows += [(stage, reason, n) for reason, n in sorted(by.items(), key=lambda kv: (-kv[1], kv[0]))]
    if not rows:
        return None
    fig = _figure("Dropped, per stage and reason (log scale)", 130 + BAR_PX * len(rows), barmode="overlay",
                  legend={"title": {"text": "stage"}, "traceorder": "normal"})
    for stage in dict.fromkeys(stage for stage, _, _ in rows):
        mine = [(_e(reason), n) for s, reason, n in rows if s == stage]
        fig.add_trace(bar(name=stage, orientation="h", y=[f"{stage} · {r}" for r, _ in mine],
                             x=[n for _, n in mine], text=[_n(n) for _, n in mine], textposition="outside",
                             cliponaxis=False, marker={"color": STAGE_COLORS[stage]}))
    top = max(n for _, _, n in rows)
    fig.update_xaxes(type="log", title="elements dropped", dtick=1, range=[-0.1, np.log10(top) + 0.6])
    fig.update_yaxes(autorange="reversed", categoryorder="array",
                     categoryarray=[f"{s} · {_e(r)}" for s, r, _ in rows])
    return fig


def languages(by_language: dict[str, int]) -> Figure | None:
    """Documents per language, most first; past the first LANGUAGES_SHOWN, the rest in one bar."""
    if not by_language:
        return None
    ordered = [(_e(lang), n) for lang, n in sorted(by_language.items(), key=lambda kv: (-kv[1], kv[0]))]
    if len(ordered) > LANGUAGES_SHOWN:
        rest = ordered[LANGUAGES_SHOWN - 1:]
        ordered = [*ordered[:LANGUAGES_SHOWN - 1], (f"{len(rest)} others", sum(n for _, n in rest))]
    fig = _figure(f"Documents per language ({len(by_language)} language{'s' if len(by_language) != 1 else ''})",
                  420, showlegend=False)
    fig.add_trace(bar(x=[lang for lang, _ in ordered], y=[n for _, n in ordered],
                         text=[_n(n) for _, n in ordered], textposition="outside", cliponaxis=False,
                         width=0.5 if len(ordered) < 5 else None, marker={"color": KEPT}))
    fig.update_xaxes(title="language (fastText label)", type="category")
    _counts_axis(fig.update_yaxes, max(n for _, n in ordered), "documents")
    return fig


def _short(n: int) -> str:
    for size, unit in ((10**6, "M"), (10**3, "k")):
        if n >= size:
            return f"{n // size}{unit}"
    return str(n)


def lengths(chars: np.ndarray, sampled: int, total: int) -> Figure | None:
    """How long documents are, in 1-2-5 buckets of characters."""
    if not len(chars):
        return None
    edges = np.array(LENGTH_EDGES[:-1] + (np.iinfo(np.int64).max,), dtype=np.int64)
    per_bucket = np.histogram(chars, bins=edges)[0]
    used = np.nonzero(per_bucket)[0]
    first, last = int(used[0]), int(used[-1])
    labels = [f"{_short(LENGTH_EDGES[i])}–{_short(LENGTH_EDGES[i + 1])}" if i < len(per_bucket) - 1
              else f"≥{_short(LENGTH_EDGES[i])}" for i in range(first, last + 1)]
    of = "all" if sampled == total else f"{_n(sampled)} sampled of {_n(total)}"
    fig = _figure(f"Document length in characters ({of} documents; median {_n(int(np.median(chars)))})", 420,
                  showlegend=False, bargap=0.05)
    counts = per_bucket[first:last + 1].tolist()
    fig.add_trace(bar(x=labels, y=counts, text=[_n(n) for n in counts], textposition="outside",
                         cliponaxis=False, marker={"color": KEPT}))
    fig.update_xaxes(title="characters (from, included – to, excluded)", type="category")
    _counts_axis(fig.update_yaxes, max(counts), "documents")
    return fig


def top_domains_kept(domains: Counter, sampled: int, total: int) -> Figure | None:
    if not domains:
        return None
    top = sorted(domains.items(), key=lambda kv: (-kv[1], kv[0]))[:TOP]
    of = "all" if sampled == total else f"{_n(sampled)} sampled of {_n(total)}"
    fig = _figure(f"Top {len(top)} domains kept (of {_n(len(domains))}, in {of} documents)",
                  110 + BAR_PX * len(top), showlegend=False)
    fig.add_trace(bar(orientation="h", y=[_e(d) for d, _ in top], x=[n for _, n in top],
                         text=[_n(n) for _, n in top], textposition="outside", cliponaxis=False,
                         marker={"color": KEPT}))
    fig.update_yaxes(autorange="reversed", type="category")
    _counts_axis(fig.update_xaxes, top[0][1], "documents")
    return fig


def top_domains_dropped(rejected: Counter, dead: Counter, n_rejected: int, n_dead: int) -> Figure | None:
    """Domains of the sampled rejected documents and of the dead letters, stacked."""
    total = rejected + dead
    if not total:
        return None
    top = [d for d, _ in sorted(total.items(), key=lambda kv: (-kv[1], kv[0]))[:TOP]]
    seen = [f"{_n(n)} {what}" for n, what in ((n_rejected, "sampled rejected documents"), (n_dead, "dead letters"))
            if n]
    fig = _figure(f"Top {len(top)} domains dropped (in {', '.join(seen)})", 130 + BAR_PX * len(top), barmode="stack",
                  legend={"orientation": "h", "y": 1.0, "yanchor": "bottom", "x": 1, "xanchor": "right",
                          "traceorder": "normal"})
    for name, counter, color in (("rejected by a filter (sampled)", rejected, DROPPED), ("dead letter", dead, DEAD)):
        if counter:
            fig.add_trace(bar(name=name, orientation="h", y=[_e(d) for d in top], x=[counter[d] for d in top],
                                 text=[_n(counter[d]) if counter[d] else "" for d in top], textposition="inside",
                                 textangle=0, insidetextanchor="middle", marker={"color": color}))
    fig.update_yaxes(autorange="reversed", type="category")
    _counts_axis(fig.update_xaxes, total[top[0]], "documents and records")
    return fig


def copies(duplicate_count: Counter, cluster_size: Counter, sampled: int, total: int) -> Figure | None:
    """duplicate_count and near_dup_cluster_size, side by side in shared buckets (log scale)."""
    if not duplicate_count and not cluster_size:
        return None

    def bucketed(counter: Counter) -> list[int]:
        return [sum(n for v, n in counter.items() if lo <= v and (hi is None or v <= hi)) for lo, hi in COPY_BUCKETS]

    series = {"duplicate_count": bucketed(duplicate_count), "near_dup_cluster_size": bucketed(cluster_size)}
    last = max(i for values in series.values() for i, n in enumerate(values) if n) + 1
    labels = [str(lo) if lo == hi else f"≥{_n(lo)}" if hi is None else f"{_n(lo)}–{_n(hi)}"
              for lo, hi in COPY_BUCKETS[:last]]
    of = "all" if sampled == total else f"{_n(sampled)} sampled of {_n(total)}"
    fig = _figure(f"Copies per document ({of} documents; log scale)", 420, barmode="group",
                  legend={"orientation": "h", "y": 1.0, "yanchor": "bottom", "x": 1, "xanchor": "right"})
    for (name, values), color in zip(series.items(), (KEPT, "#f58518"), strict=True):
        fig.add_trace(bar(name=name, x=labels, y=values[:last], text=[_n(n) if n else "" for n in values[:last]],
                             textposition="outside", cliponaxis=False, marker={"color": color}))
    fig.update_xaxes(title="copies seen (exact: duplicate_count; near: cluster size)", type="category")
    top = max(max(values) for values in series.values())
    fig.update_yaxes(title="documents", type="log", dtick=1, range=[-0.3, np.log10(top) + 0.35])
    return fig


def dead_letters(counts: dict) -> Figure | None:
    rows = [(stage, reason, n) for stage in STAGES for reason, n in sorted(counts.get(stage, {}).items())
            if reason in reasons.DEAD_LETTER_REASONS and n > 0]
    if not rows:
        return None
    fig = _figure(f"Dead letters by reason ({_n(sum(n for *_, n in rows))} counted)", 400, showlegend=False)
    fig.add_trace(bar(x=[f"{s} · {r}" for s, r, _ in rows], y=[n for *_, n in rows],
                         text=[_n(n) for *_, n in rows], textposition="outside", cliponaxis=False,
                         marker={"color": [STAGE_COLORS[s] for s, _, _ in rows]}))
    fig.update_xaxes(title="stage · reason", type="category")
    _counts_axis(fig.update_yaxes, max(n for *_, n in rows), "records")
    return fig


def sizes(inputs: list[dict], files: dict[str, list[dict]]) -> Figure | None:
    """Input bytes (the sizes the manifest knows), then output bytes per section."""
    known = [i["size"] for i in inputs if isinstance(i.get("size"), int)]
    bars = []
    if inputs:
        some = "" if len(known) == len(inputs) else f", {len(known)} sizes known"
        bars.append((f"input ({_files(len(inputs), 'WARC ')}{some})", sum(known), "#72b7b2"))
    rank = {section: i for i, section in enumerate(SECTION_ORDER)}
    for section in sorted(files, key=lambda s: (rank.get(s, len(rank)), s)):
        entries = files[section]
        if entries:
            bars.append((f"{_e(section)}/ ({_files(len(entries))})", sum(e.get("bytes", 0) for e in entries), KEPT))
    if not bars:
        return None
    fig = _figure("Input and output bytes", 130 + 40 * len(bars), showlegend=False)
    fig.add_trace(bar(orientation="h", y=[b[0] for b in bars], x=[b[1] for b in bars],
                         text=[_bytes(b[1]) for b in bars], textposition="outside", cliponaxis=False,
                         marker={"color": [b[2] for b in bars]}, hovertemplate="%{y}: %{x:,} bytes<extra></extra>"))
    fig.update_yaxes(autorange="reversed", type="category")
    fig.update_xaxes(title="bytes", tickformat="~s")
    return fig


def _files(n: int, kind: str = "") -> str:
    return f"{_n(n)} {kind}file{'' if n == 1 else 's'}"


def _bytes(n: int) -> str:
    for size, unit in ((1e9, "GB"), (1e6, "MB"), (1e3, "kB")):
        if n >= size:
            return f"{n / size:,.1f} {unit}"
    return f"{n} B"


def stage_time(stage_seconds: dict) -> Figure | None:
    order = {stage: i for i, stage in enumerate(STAGES)}
    rows = sorted(((str(s), float(t)) for s, t in stage_seconds.items() if isinstance(t, int | float)),
                  key=lambda kv: (order.get(kv[0], len(order)), kv[0]))
    if not rows:
        return None
    fig = _figure(f"Time per stage ({sum(t for _, t in rows):,.1f} s summed over stages)", 130 + 30 * len(rows),
                  showlegend=False)
    fig.add_trace(bar(orientation="h", y=[_e(s) for s, _ in rows], x=[t for _, t in rows],
                         text=[f"{t:,.1f} s" for _, t in rows], textposition="outside", cliponaxis=False,
                         marker={"color": [STAGE_COLORS.get(s, "#bab0ac") for s, _ in rows]}))
    fig.update_yaxes(autorange="reversed", type="category")
    fig.update_xaxes(title="seconds")
    return fig
