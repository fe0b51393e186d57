"""Every build publishes a dataset card (README.md) the Hugging Face Hub reads: front matter, funnel,
languages, recipe, and the Hub's own loader finds the documents through it.

`datasets`' pins must not move Beam's, so the loader runs in its own virtual environment, made once per
release in ~/.cache/warcforge (about 20 s from the package index) and kept between runs.
"""

import collections
import hashlib
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from beam_jobs.dataset_card import dataset_card, recipe_yaml, size_category
from beam_jobs.recipe import parse_recipe
from beam_jobs.run_report import STAGES
from tests.conftest import CACHE, build, read_rows, write_recipe
from transforms.common.errors import OutputExistsError

DATASETS = "5.2.0"
FRONT_KEYS = {"configs", "license", "license_name", "license_link", "task_categories", "size_categories",
              "pretty_name"}
TRICKY_NAME = "web | text: a test"
TRICKY_DESCRIPTION = "First line: with a colon.\n---\nSecond | line, and ``` a fence\n"

LOAD = """
import hashlib, json, sys
import datasets
loaded = datasets.load_dataset(sys.argv[1])
train = loaded["train"]
print(json.dumps({"version": datasets.__version__, "splits": sorted(loaded), "rows": train.num_rows,
                  "columns": train.column_names,
                  "texts": sorted(hashlib.sha256(t.encode()).hexdigest() for t in train["text"])}))
"""


def split_card(card: str) -> tuple[dict, str]:
    assert card.startswith("---\n")
    front, body = card[4:].split("\n---\n", 1)
    return yaml.safe_load(front), body


def table_rows(body: str, header: str) -> list[list[str]]:
    """The cells of the table whose header row is ``header``; every row has the header's columns."""
    lines = body.splitlines()
    start = lines.index(header)
    columns = len(re.split(r"(?<!\\)\|", header)) - 2
    rows = []
    for line in lines[start + 2:]:
        if not line.startswith("|"):
            break
        cells = [c.strip() for c in re.split(r"(?<!\\)\|", line)[1:-1]]
        assert len(cells) == columns, line
        rows.append(cells)
    return rows


def recipe_block(body: str) -> dict:
    match = re.search(r"^(`{3,})yaml\n(.*?)^\1$", body, re.S | re.M)
    assert match, "no recipe block"
    return yaml.safe_load(match.group(2))


@pytest.fixture(scope="module")
def sample_cards(sample_dir, tmp_path_factory):
    """Two builds of one recipe, into two directories."""
    base = tmp_path_factory.mktemp("cards")
    recipe = write_recipe(base / "r.yaml", [str(sample_dir / "*.warc.gz")])
    return [(base / name, build(recipe, base / name)) for name in ("one", "two")]


def test_the_card_has_the_hubs_front_matter_and_the_manifests_funnel(sample_cards):
    out, manifest = sample_cards[0]
    card = (out / "README.md").read_text(encoding="utf-8")
    front, body = split_card(card)
    assert FRONT_KEYS <= set(front) and "language" not in front  # the language filter is off
    assert front["configs"] == [{"config_name": "default",
                                 "data_files": [{"split": "train", "path": "data/*.parquet"}]}]
    assert (front["license"], front["license_link"]) == ("other", "https://commoncrawl.org/terms-of-use")
    assert front["license_name"] and front["task_categories"] == ["text-generation"]
    assert front["size_categories"] == [size_category(manifest["documents"])] == ["n<1K"]
    assert front["pretty_name"] == manifest["recipe"]["name"]
    assert "comes from [Common Crawl]" in body and "subject to Common Crawl's [terms of use]" in body
    funnel = table_rows(body, "| stage | reason | count |")
    counts = manifest["counts"]
    expected = [(stage, reason, f"{n:,}") for stage in STAGES for reason, n in counts.get(stage, {}).items()]
    assert sorted(map(tuple, funnel)) == sorted(expected)
    assert [s for s, _, _ in funnel] == sorted((s for s, _, _ in funnel), key=STAGES.index)  # stages in order
    assert "language filter is off" in body
    assert manifest["recipe_sha256"] in body and "warcforge build --config recipe.yaml --output DIR" in body
    files = {row[0]: row for row in table_rows(body, "| folder | files | rows | bytes | holds |")}
    assert files["`data/`"][1:3] == [str(len(manifest["files"]["data"])), f"{manifest['documents']:,}"]
    assert len(card.splitlines()) < 230
    # The recipe shown is the recipe built: saved as recipe.yaml it reads back with the manifest's digest.
    assert parse_recipe(recipe_block(body)).digest() == manifest["recipe_sha256"]


def test_the_card_is_the_same_bytes_for_the_same_recipe(sample_cards):
    (one, _), (two, _) = sample_cards
    assert (one / "README.md").read_bytes() == (two / "README.md").read_bytes()


def test_names_and_descriptions_with_markup_do_not_break_the_card(sample_dir, tmp_path):
    recipe = write_recipe(tmp_path / "r.yaml", [str(sample_dir / "sample-00000.warc.gz")],
                          name=TRICKY_NAME, description=TRICKY_DESCRIPTION)
    manifest = build(recipe, tmp_path / "out")
    front, body = split_card((tmp_path / "out" / "README.md").read_text(encoding="utf-8"))
    assert front["pretty_name"] == TRICKY_NAME and FRONT_KEYS <= set(front)
    assert f"# {TRICKY_NAME}\n" in body
    assert table_rows(body, "| stage | reason | count |")
    shown = recipe_block(body)  # the description's ``` does not close the block
    assert shown["description"] == TRICKY_DESCRIPTION
    assert parse_recipe(shown).digest() == manifest["recipe_sha256"]


def test_pipes_and_newlines_from_the_manifest_stay_inside_their_cells():
    manifest = {"recipe": {"name": "x", "input": {"crawl": "CC-MAIN-2025-18", "kind": "wet"}},
                "counts": {"read": {"in": 2, "weird|reason\nhere": 1, "out": 1}, "languages": {"e|n": 1}},
                "documents": 1, "inputs": [{"warc_path": "a", "size": None}], "files": {"data": []},
                "versions": {"pkg|name": "1|2"}, "recipe_sha256": "r", "lock_sha256": "abc123"}
    front, body = split_card(dataset_card(manifest))
    assert front["language"] == ["e|n"]
    assert ["read", "weird\\|reason here", "1"] in table_rows(body, "| stage | reason | count |")
    assert table_rows(body, "| language | documents |") == [["e\\|n", "1"]]
    assert table_rows(body, "| package | version |") == [["pkg\\|name", "1\\|2"]]
    assert "crawl `CC-MAIN-2025-18`" in body and "the size of 1 is not known" in body
    assert "warcforge build --lock warcforge.lock --output DIR\nwarcforge verify DIR" in body
    assert "abc123" in body and "--config recipe.yaml" not in body
    assert dataset_card(manifest) == dataset_card(json.loads(json.dumps(manifest)))


def test_size_categories_are_the_hubs_buckets():
    assert [size_category(n) for n in (0, 999, 1000, 9999, 10**4, 10**6 - 1, 10**6, 10**12 - 1, 10**12)] == [
        "n<1K", "n<1K", "1K<n<10K", "1K<n<10K", "10K<n<100K", "100K<n<1M", "1M<n<10M", "100B<n<1T", "n>1T"]


def test_integer_keys_read_back_as_the_recipe_wants_them():
    shown = yaml.safe_load(recipe_yaml({"filters": {"gopher_repetition": {"max_top_ngram_char_ratio": {"2": 0.2}}}}))
    assert shown == {"filters": {"gopher_repetition": {"max_top_ngram_char_ratio": {2: 0.2}}}}


def test_a_readme_without_a_manifest_is_not_ours_and_one_beside_a_manifest_is(sample_dir, tmp_path):
    recipe = write_recipe(tmp_path / "r.yaml", [str(sample_dir / "sample-00000.warc.gz")])
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "README.md").write_text("my own notes\n")
    with pytest.raises(OutputExistsError, match="holds no warcforge dataset"):
        build(recipe, notes)
    assert (notes / "README.md").read_text() == "my own notes\n"
    out = tmp_path / "out"
    build(recipe, out)
    (out / "README.md").write_text("edited\n")
    build(recipe, out, "--overwrite")
    assert (out / "README.md").read_text(encoding="utf-8").startswith("---\npretty_name: test\n")


@pytest.fixture(scope="module")
def language_build(sample_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp("languages") / "out"
    recipe = write_recipe(out.parent / "r.yaml", [str(sample_dir / "*.warc.gz")],
                          filters={"language": {"enabled": True, "min_score": 0.0}})
    return out, build(recipe, out)


def test_languages_are_counted_and_shown_when_the_language_filter_is_on(language_build, sample_cards):
    out, manifest = language_build
    counted = manifest["counts"]["languages"]
    assert counted == dict(collections.Counter(r["language"] for r in read_rows(out)))
    assert sum(counted.values()) == manifest["documents"] > 0
    front, body = split_card((out / "README.md").read_text(encoding="utf-8"))
    assert front["language"] == sorted(counted)
    rows = table_rows(body, "| language | documents |")
    assert {lang: int(n.replace(",", "")) for lang, n in rows} == counted
    assert "languages" not in sample_cards[0][1]["counts"]  # the filter off: no language, no counter


@pytest.fixture(scope="module")
def datasets_python() -> Path:
    venv = CACHE / f"datasets-{DATASETS}"
    python = venv / "bin" / "python"
    if not (venv / ".installed").exists():
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], check=True, timeout=120)
        install = subprocess.run([str(python), "-m", "pip", "install", "--quiet", f"datasets=={DATASETS}"],
                                 capture_output=True, text=True, timeout=900)
        if install.returncode != 0:
            pytest.fail(f"datasets=={DATASETS} does not install: {install.stderr[-2000:]}")
        (venv / ".installed").touch()
    return python


@pytest.mark.parametrize("which", ["plain", "languages"])
def test_the_hubs_loader_reads_the_documents_through_the_card(which, datasets_python, sample_cards, language_build,
                                                              tmp_path):
    out, manifest = sample_cards[0] if which == "plain" else language_build
    env = {**os.environ, "HF_DATASETS_OFFLINE": "1", "HF_HUB_OFFLINE": "1", "HF_HOME": str(tmp_path / "hf"),
           "HF_DATASETS_CACHE": str(tmp_path / "hf" / "datasets")}
    result = subprocess.run([str(datasets_python), "-c", LOAD, str(out)], capture_output=True, text=True,
                            timeout=300, env=env)
    assert result.returncode == 0, result.stderr[-3000:]
    loaded = json.loads(result.stdout.strip().splitlines()[-1])
    assert loaded["version"] == DATASETS and loaded["splits"] == ["train"]
    assert loaded["rows"] == manifest["documents"] and "text" in loaded["columns"]
    assert loaded["texts"] == sorted(hashlib.sha256(r["text"].encode()).hexdigest() for r in read_rows(out))
