"""warcforge report: one self-contained HTML page per dataset. Opened in a real headless Chromium, every
chart draws with no console error and no request leaving the file; the page is the same bytes twice,
escapes what it shows from the data, samples large sections within its limit, and a directory without
a manifest is exit 2 with one line."""

import copy
import json
import re
import shutil
import time
from pathlib import Path

import fsspec
import pytest
from plotly.offline import get_plotlyjs

from beam_jobs import report
from beam_jobs.report_data import plan_sample, read_section
from beam_jobs.report_figure import Figure, bar
from tests.conftest import build, free_port, write_recipe

CHARTS = ["funnel", "drops", "languages", "lengths", "copies", "domains-kept", "domains-dropped", "dead-letters",
          "bytes", "stage-time"]
# Recorded by the build once another change adds it; given here otherwise, so that the time chart is drawn too.
STAGE_SECONDS = {"read": 1.5, "extract": 2.25, "filter": 0.75, "dedup_exact": 0.25, "near_dedup": 0.5, "write": 0.5}
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="module")
def dataset(sample_dir, tmp_path_factory) -> tuple[Path, dict, dict]:
    """The sample with filters that drop documents (so rejected/ has rows), language labels and near dedup."""
    base = tmp_path_factory.mktemp("report")
    recipe = write_recipe(base / "r.yaml", [str(sample_dir / "*.warc.gz")],
                          filters={"gopher_repetition": {"enabled": True}, "gopher_quality": {"enabled": True},
                                   "language": {"enabled": True, "keep": ["en", "de", "fr", "es"]},
                                   "rejected_sample_rate": 0.5},
                          dedup={"near": {"enabled": True}})
    manifest = build(recipe, base / "out")
    run_info = json.loads((base / "out" / "run_info.json").read_text())
    run_info.setdefault("stage_seconds", STAGE_SECONDS)
    return base / "out", manifest, run_info


@pytest.fixture(scope="module")
def page(dataset) -> str:
    out, manifest, run_info = dataset
    return report.render_report(str(out), manifest, run_info)


def chart_ids(page: str) -> list[str]:
    return re.findall(r'<div id="(chart-[a-z-]+)" class="plotly-graph-div"', page)


def test_the_report_draws_every_chart_in_chromium_without_errors(dataset, page, tmp_path):
    if CHROMIUM is None:
        pytest.skip("chromium is not installed (Debian: apt-get install chromium; .ci/run installs it)")
    from playwright.sync_api import TimeoutError as PlaywrightTimeoutError
    from playwright.sync_api import sync_playwright

    out, manifest, _ = dataset
    assert manifest["counts"]["filter"]["in"] > manifest["counts"]["filter"]["out"] and manifest["files"]["rejected"]
    assert chart_ids(page) == [f"chart-{name}" for name in CHARTS]
    path = tmp_path / "report.html"
    path.write_text(page, encoding="utf-8")
    errors, requests = [], []
    started = time.monotonic()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM)
        try:
            tab = browser.new_page(viewport={"width": 1200, "height": 900})
            tab.on("console", lambda message: errors.append(f"console: {message.text}")
                   if message.type == "error" else None)
            tab.on("pageerror", lambda error: errors.append(f"page error: {error}"))
            tab.on("request", lambda request: requests.append(request.url))
            tab.goto(path.as_uri())
            try:  # Plotly draws as its scripts run; a chart that cannot draw is named below, not by a timeout
                tab.wait_for_function("() => [...document.querySelectorAll('.plotly-graph-div')]"
                                      ".every(div => div.querySelector('.main-svg'))", timeout=15_000)
            except PlaywrightTimeoutError:
                pass
            drawn = tab.evaluate("""() => [...document.querySelectorAll('.plotly-graph-div')].map(div => ({
                id: div.id,
                svgs: div.querySelectorAll('.main-svg').length,
                title: (div.querySelector('.gtitle') || {}).textContent || '',
                marks: [...div.querySelectorAll('.cartesianlayer .trace .point path')]
                    .filter(p => { const d = p.getAttribute('d') || ''; return d && d !== 'M0,0Z'; }).length,
            }))""")
            screenshot = tmp_path / "report.png"
            tab.screenshot(path=str(screenshot), full_page=True)
        finally:
            browser.close()
    print(f"\nscreenshot: {screenshot} ({time.monotonic() - started:.1f} s in Chromium)")
    assert [chart["id"] for chart in drawn] == [f"chart-{name}" for name in CHARTS]
    for chart in drawn:
        assert chart["svgs"] >= 1 and chart["marks"] >= 1 and chart["title"], chart
    assert errors == []
    assert [url for url in requests if not url.startswith("file:")] == []  # nothing from the network
    assert screenshot.stat().st_size > 50_000


def test_the_page_is_self_contained_and_the_same_bytes_twice(dataset, page):
    out, manifest, run_info = dataset
    assert report.render_report(str(out), copy.deepcopy(manifest), dict(run_info)) == page
    assert not re.search(r"<(script|link|img|iframe)\b[^>]*\b(src|href)\s*=", page, re.IGNORECASE)
    assert page.count(get_plotlyjs()[:200]) == 1  # plotly.js inlined once, in the head
    assert page.count("Plotly.newPlot(") == len(CHARTS)
    assert page.count('{"displaylogo": false, "responsive": true}') == len(CHARTS)
    for example in read_section(*fsspec.core.url_to_fs(str(out)), manifest["files"]["data"], ("id",)).examples:
        assert f"<td class=\"id\">{example['id']}</td>" in page
    assert "Time per stage was not recorded" not in page


def test_what_is_missing_is_said_in_words(dataset):
    out, manifest, run_info = dataset
    page = report.render_report(str(out), manifest, {k: v for k, v in run_info.items() if k != "stage_seconds"})
    assert "Time per stage was not recorded for this run" in page and "chart-stage-time" not in page
    counts = {stage: by for stage, by in manifest["counts"].items() if stage != "languages"}
    page = report.render_report(str(out), {**manifest, "counts": counts}, None)
    assert "Language identification was off" in page and "chart-languages" not in page
    assert "Failed shards: none." in page


def test_strings_from_the_data_are_escaped(dataset):
    out, manifest, _ = dataset
    hostile = "<script>alert(1)</script>"
    edited = {**manifest, "recipe": {**manifest["recipe"], "name": hostile, "description": f"a & b {hostile}"},
              "failed_shards": [{"warc_path": f"{hostile}.warc.gz", "reason": "shard_failed", "offset": 7}],
              "counts": {**manifest["counts"], "languages": {hostile: 3}}}
    page = report.render_report(str(out), edited, None)
    assert hostile not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "a &amp; b" in page and "<td>&lt;script&gt;alert(1)&lt;/script&gt;.warc.gz</td>" in page


def test_large_sections_are_sampled_within_the_limit_and_the_same_way_each_time(dataset):
    entries = [{"path": f"data/part-{i:05d}.parquet", "rows": 1000 + i} for i in range(400)]
    plan = plan_sample(entries, limit=50_000)
    assert plan == plan_sample(list(reversed(entries)), limit=50_000)
    assert sum(rows for _, rows in plan) == 50_000 and len(plan) == 50  # 50 evenly spaced files, 1,000 rows each
    assert [path for path, _ in plan][:3] == ["data/part-00000.parquet", "data/part-00008.parquet",
                                              "data/part-00016.parquet"]
    assert plan_sample(entries[:3], limit=50_000) == [(e["path"], e["rows"]) for e in entries[:3]]
    out, manifest, _ = dataset
    fs, root = fsspec.core.url_to_fs(str(out))
    sample = read_section(fs, root, manifest["files"]["data"], ("id", "text", "url"), limit=50)
    assert sample.rows == 50 == len(sample.lengths) and len(sample.examples) == 5
    assert sample.examples == read_section(fs, root, manifest["files"]["data"], ("id", "text", "url"), 50).examples


def test_a_pointer_dataset_gets_the_charts_that_need_no_text(sample_dir, tmp_path):
    recipe = write_recipe(tmp_path / "r.yaml", [str(sample_dir / "sample-00000.warc.gz")],
                          filters={"gopher_quality": {"enabled": True}, "rejected_sample_rate": 1.0},
                          output={"format": "pointers"})
    manifest = build(recipe, tmp_path / "pointers")
    page = report.render_report(str(tmp_path / "pointers"), manifest, None)
    assert chart_ids(page) == ["chart-funnel", "chart-drops", "chart-copies", "chart-domains-dropped",
                               "chart-dead-letters", "chart-bytes"]
    assert page.count("This is a pointer dataset") == 2 and "holds no text or URL" in page


def test_the_command_writes_the_page_and_prints_its_path(dataset, tmp_path, monkeypatch, capsys):
    out, _, _ = dataset
    monkeypatch.chdir(tmp_path)
    assert report.main([str(out)]) == 0
    assert capsys.readouterr().out == "report.html\n"
    written = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert written.startswith("<!DOCTYPE html>") and len(chart_ids(written)) >= len(CHARTS) - 1
    assert report.main([str(out), "-o", str(tmp_path / "elsewhere.html")]) == 0
    assert capsys.readouterr().out == f"{tmp_path / 'elsewhere.html'}\n"


def test_a_folder_without_a_manifest_is_exit_2_with_one_line(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    assert report.main([str(tmp_path / "empty"), "-o", str(tmp_path / "r.html")]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err == f"warcforge: error: {tmp_path / 'empty'}: manifest.json not found: not a warcforge " \
                                "dataset\n"
    assert not (tmp_path / "r.html").exists()
    (tmp_path / "empty" / "manifest.json").write_text('{"hello": 1}')
    assert report.main([str(tmp_path / "empty")]) == 2
    assert capsys.readouterr().err.startswith(f"warcforge: error: {tmp_path / 'empty'}: manifest.json is not a")


def test_a_url_is_redacted_in_the_error_line(tmp_path, capsys):
    url = f"http://user:secret@127.0.0.1:{free_port()}/ds?sig=abc"  # nothing listens there
    assert report.main([url, "-o", str(tmp_path / "r.html")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("warcforge: error: http://<redacted>@127.0.0.1:") and "secret" not in err
    assert "abc" not in err and err.count("\n") == 1


def test_a_figure_merges_settings_as_plotly_does_and_gives_titles_the_form_plotly_js_reads():
    fig = Figure()
    fig.update_layout(title={"text": "t", "x": 0.005}, legend={"title": {"text": "stage"}})
    fig.update_layout(title={"xanchor": "left"})
    fig.update_xaxes(type="log", title="elements dropped")
    fig.update_xaxes(dtick=1)
    fig.add_trace(bar(x=[1], y=[2]))
    assert fig.layout["title"] == {"text": "t", "x": 0.005, "xanchor": "left"}
    assert fig.layout["legend"] == {"title": {"text": "stage"}}
    assert fig.layout["xaxis"] == {"type": "log", "title": {"text": "elements dropped"}, "dtick": 1}
    assert set(fig.layout["template"]["data"]) <= {"bar", "funnel"}  # only the defaults of what the charts draw
    assert fig.data == [{"type": "bar", "x": [1], "y": [2]}]
    div = fig.to_div("chart-x")
    assert '<div id="chart-x" class="plotly-graph-div"' in div and '"title":{"text":"elements dropped"}' in div
