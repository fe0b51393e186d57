"""``warcforge inspect DIR``: the schema, files, funnel and samples of a built dataset, as printed."""

import json
import re
import shutil
import subprocess
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from rich.cells import cell_len

from beam_jobs import inspection as inspect
from tests.conftest import WARCFORGE, build, read_rows, write_recipe
from transforms.common import reasons


@pytest.fixture(scope="module")
def dataset(sample_dir, tmp_path_factory) -> Path:
    """The sample, filtered by Gopher's quality rules so that rejected/ holds documents of two reasons, in
    row groups of 16 rows: inspect reads only those it needs. (Gopher's repetition rules, which follow
    datatrove's, now also drop a few of the sample's tiny documents, so they are left out here.)"""
    folder = tmp_path_factory.mktemp("inspect")
    recipe = write_recipe(folder / "r.yaml", [str(sample_dir / "*.warc.gz")],
                          filters={"gopher_quality": {"enabled": True}, "rejected_sample_rate": 0.5},
                          output={"row_group_rows": 16})
    build(recipe, folder / "out", "--quiet")
    return folder / "out"


@pytest.fixture(scope="module")
def manifest(dataset) -> dict:
    return json.loads((dataset / "manifest.json").read_text())


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([WARCFORGE, "inspect", *args], capture_output=True, text=True, timeout=120)


def inspect_main(capsys, *args: str) -> tuple[int, str, str]:
    code = inspect.main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def sample_heads(out: str) -> list[tuple[str, str]]:
    """(id, the provenance line after it) of each numbered sample."""
    lines = out.splitlines()
    return [(m.group(1), lines[k + 1]) for k, line in enumerate(lines)
            if (m := re.match(r"^\d+\. ([0-9a-f]{32})  ", line))]


def test_the_overview_through_the_installed_command(dataset, manifest):
    result = run_cli(str(dataset))
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "\x1b" not in out  # not a terminal: plain text
    assert all(cell_len(line) <= inspect.DEFAULT_WIDTH for line in out.splitlines())
    assert all(line == line.rstrip() for line in out.splitlines())
    # the schema, as the first data file has it
    first = dataset / manifest["files"]["data"][0]["path"]
    schema = pq.read_schema(first)
    assert f"schema ({manifest['files']['data'][0]['path']})" in out
    for field in schema:
        assert re.search(rf"^{re.escape(field.name)} +{re.escape(str(field.type))} ", out, re.M), field.name
    # every file of every section, with its rows and bytes
    for section in ("data", "dead_letter", "rejected"):
        assert f"{section}/" in out
        assert manifest["files"][section]
        for f in manifest["files"][section]:
            assert re.search(rf"^{re.escape(f['path'])} +{f['rows']:,} +{f['bytes']:,}$", out, re.M), f["path"]
    # the funnel: each stage's in and out, and each of its counters, as the manifest counts them
    funnel = out[out.index("funnel"):out.index("sample documents")]
    for stage, by in manifest["counts"].items():
        if stage == reasons.LANGUAGES:
            continue
        if reasons.IN in by:
            assert re.search(rf"^{stage} +{by['in']:,} +{by['out']:,} ", funnel, re.M), stage
        for reason, count in by.items():
            if reason not in (reasons.IN, reasons.OUT):
                assert re.search(rf" {reason}( \(not a drop\))? +{count:,}$", funnel, re.M), (stage, reason)
    shown_stages = re.findall(r"^([a-z_]+) +[\d,]* +[\d,]* +\S", funnel, re.M)[1:]  # the header's "stage" first
    assert shown_stages == [s for s in inspect.STAGES if s in manifest["counts"]]
    # five samples: the first documents by id, each with its provenance
    rows = sorted(read_rows(dataset), key=lambda row: row["id"])
    heads = sample_heads(out)
    assert [doc_id for doc_id, _ in heads] == [row["id"] for row in rows[:5]]
    for (_, where), row in zip(heads, rows, strict=False):
        assert where.strip().startswith(f"{row['warc_path']} @ {row['warc_offset']}")
    assert f"5 sample documents of {manifest['documents']:,} (first by id" in out


def test_the_same_seed_draws_the_same_samples_and_width_is_kept(dataset, capsys):
    code, first, _ = inspect_main(capsys, str(dataset), "--sample", "7", "--seed", "3", "--width", "60")
    assert code == 0
    again = inspect_main(capsys, str(dataset), "--sample", "7", "--seed", "3", "--width", "60")[1]
    other = inspect_main(capsys, str(dataset), "--sample", "7", "--seed", "4", "--width", "60")[1]
    assert first == again and len(sample_heads(first)) == 7
    assert sample_heads(first) != sample_heads(other)
    ids = [doc_id for doc_id, _ in sample_heads(first)]
    assert ids == sorted(ids) and set(ids) <= {row["id"] for row in read_rows(dataset)}
    assert all(cell_len(line) <= 60 for line in first.splitlines())
    assert len(sample_heads(inspect_main(capsys, str(dataset), "--sample", "0")[1])) == 0


def test_id_prints_the_whole_document(dataset, capsys):
    row = max(read_rows(dataset), key=lambda row: len(row["text"]))
    code, out, err = inspect_main(capsys, str(dataset), "--id", row["id"])
    assert (code, err) == (0, "")
    assert f"\n{row['text']}\n" in out  # all of it, as it is
    for name, value in row.items():
        if name != "text":
            assert re.search(rf"^  {name} +{re.escape(inspect.show_value(value))}$", out, re.M), name
    assert re.search(rf"^  url +{re.escape(row['url'])}$", out, re.M)
    assert re.search(rf"^  warc_offset +{row['warc_offset']}$", out, re.M)


def test_id_reads_only_the_row_groups_that_can_hold_it(dataset, monkeypatch):
    path = sorted((dataset / "data").glob("*.parquet"))[1]
    rows = pq.read_table(path).to_pylist()
    assert pq.ParquetFile(path).metadata.num_row_groups > 3
    read = []
    original = pq.ParquetFile.read_row_group
    monkeypatch.setattr(pq.ParquetFile, "read_row_group",
                        lambda self, group, **kw: read.append(group) or original(self, group, **kw))
    reader = inspect.Dataset(str(dataset)).parquet(path.relative_to(dataset).as_posix())
    assert reader.find("id", rows[40]["id"]) == [40] and read == [2]
    assert reader.rows([40, 3, 17]) == [rows[40], rows[3], rows[17]]


def test_an_id_the_dataset_does_not_hold_is_exit_1(dataset):
    result = run_cli(str(dataset), "--id", "0" * 32)
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr == f"warcforge: error: no document {'0' * 32} in {dataset}\n"


def test_reason_samples_only_that_reasons_rejected_documents(dataset, capsys):
    rejected = read_rows(dataset, "rejected")
    assert {row["filter_reason"] for row in rejected} == {"gopher_stop_words", "gopher_too_few_words"}
    wanted = sorted(row["id"] for row in rejected if row["filter_reason"] == "gopher_too_few_words")
    code, out, _ = inspect_main(capsys, str(dataset), "--reason", "gopher_too_few_words", "--sample", "4")
    assert code == 0
    heads = sample_heads(out)
    assert [doc_id for doc_id, _ in heads] == wanted[:4]
    assert all("filter: gopher_too_few_words" in where for _, where in heads)
    assert "gopher_stop_words" not in out
    assert f"4 of {len(wanted)} sampled rejected documents with reason gopher_too_few_words" in out


def test_an_unknown_reason_lists_the_reasons_present(dataset, capsys):
    rejected = read_rows(dataset, "rejected")
    code, out, err = inspect_main(capsys, str(dataset), "--reason", "gopher_bullets")
    assert (code, out) == (1, "")
    counts = {r: sum(row["filter_reason"] == r for row in rejected) for r in ("gopher_stop_words",
                                                                             "gopher_too_few_words")}
    assert err == (f"warcforge: error: no rejected document with reason 'gopher_bullets' in {dataset}; the reasons "
                   f"present in rejected/: gopher_stop_words ({counts['gopher_stop_words']:,}), "
                   f"gopher_too_few_words ({counts['gopher_too_few_words']:,})\n")


def test_a_dataset_without_rejected_documents_says_so(sample_dir, tmp_path, capsys):
    recipe = write_recipe(tmp_path / "r.yaml", [str(sample_dir / "sample-00000.warc.gz")])
    build(recipe, tmp_path / "out", "--quiet")
    capsys.readouterr()  # the build's summary
    code, out, err = inspect_main(capsys, str(tmp_path / "out"), "--reason", "gopher_stop_words")
    assert (code, out) == (1, "")
    assert err == (f"warcforge: error: {tmp_path / 'out'} holds no rejected/ files: it was built without "
                   "filters.rejected_sample_rate, so no rejected document was kept\n")
    code, out, _ = inspect_main(capsys, str(tmp_path / "out"))
    assert code == 0 and re.search(r"^rejected/\n.*\n─+\nno files$", out, re.M)


def test_a_folder_without_a_manifest_is_one_line_and_exit_2(sample_dir, tmp_path):
    result = run_cli(str(sample_dir))
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == f"warcforge: error: {sample_dir}: holds no manifest.json: not a warcforge dataset\n"
    verbose = run_cli(str(sample_dir), "--verbose")
    assert verbose.returncode == 2 and verbose.stderr.startswith("Traceback")
    assert verbose.stderr.endswith(result.stderr)
    (tmp_path / "manifest.json").write_text('{"format": "something else"}')
    assert run_cli(str(tmp_path)).stderr == (f"warcforge: error: {tmp_path}: manifest.json is not a warcforge "
                                             "manifest\n")


def test_a_url_is_redacted_in_errors(capsys):
    code, out, err = inspect_main(capsys, "http://alice:s3cret@127.0.0.1:9/data?X-Amz-Signature=abc")
    assert code == 2 and out == ""
    assert err.startswith("warcforge: error: http://<redacted>@127.0.0.1:9/data?X-Amz-Signature=<redacted>: ")
    assert "s3cret" not in err and "abc" not in err and err.count("\n") == 1


def test_a_pointer_dataset_is_inspected_by_its_pointers(dataset, tmp_path, capsys):
    """No Parquet file is rewritten here: a copy whose manifest names data/ as pointers/ reads as one."""
    copy = tmp_path / "pointers"
    shutil.copytree(dataset, copy)
    (copy / "data").rename(copy / "pointers")
    (copy / "rejected").rename(copy / "rejected_pointers")
    manifest = json.loads((copy / "manifest.json").read_text())
    for old, new in (("data", "pointers"), ("rejected", "rejected_pointers")):
        manifest["files"][new] = [{**f, "path": f["path"].replace(f"{old}/", f"{new}/", 1)}
                                  for f in manifest["files"].pop(old)]
    (copy / "manifest.json").write_text(json.dumps(manifest))
    code, out, _ = inspect_main(capsys, str(copy), "--sample", "2")
    # The heading wraps at the output's width (--width, 100 by default): a long temporary path (pytest-xdist's
    # are) goes to a line of its own.
    heading = out.split("\n  recipe", 1)[0]
    assert code == 0 and "".join(heading.split()) == f"warcforgepointerdataset{copy}"
    assert len(sample_heads(out)) == 2
    code, out, _ = inspect_main(capsys, str(copy), "--reason", "gopher_stop_words", "--sample", "1")
    assert code == 0 and len(sample_heads(out)) == 1


def test_stages_are_run_reports():
    from beam_jobs.run_report import STAGES

    assert inspect.STAGES == STAGES
