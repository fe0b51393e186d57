"""Reading a recipe file safely, and where the paths it names resolve.

A recipe is refused, with its file and line, when its YAML says something twice, uses anchors,
aliases or merge keys, is larger than a recipe needs to be, or is not UTF-8; all before any work.
Relative paths in a recipe resolve against the recipe's own folder; ``--input`` paths against the
working directory, as command-line paths do.
"""

import json
import os
import shutil
import time
from pathlib import Path

import fsspec
import pytest

from beam_jobs.build import main
from beam_jobs.pipeline import filter_settings
from beam_jobs.recipe import load_recipe, parse_recipe
from tests.conftest import REPO, build
from transforms.common.errors import RecipeError

SHARD = "sample-00000.warc.gz"
MAX_RECIPE_BYTES = 1024 * 1024
VALID = "name: t\ninput:\n  paths: [a.warc.gz]\n"


def load_error(path: Path, content: str | bytes) -> str:
    if isinstance(content, str):
        path.write_text(content, encoding="utf-8")
    else:
        path.write_bytes(content)
    with pytest.raises(RecipeError) as caught:
        load_recipe(path)
    return str(caught.value)


# --- duplicate keys ------------------------------------------------------------------------------

def test_a_duplicate_top_level_key_is_refused(tmp_path):
    r = tmp_path / "r.yaml"
    assert load_error(r, "name: a\nname: b\ninput:\n  paths: [a.warc.gz]\n") == (
        f"recipe {r}: duplicate key 'name' at line 2 (first at line 1)")


def test_a_duplicate_block_is_refused(tmp_path):
    r = tmp_path / "r.yaml"
    text = VALID + "filters:\n  c4:\n    enabled: true\noutput:\n  num_shards: 2\nfilters:\n  pii:\n    enabled: true\n"
    assert load_error(r, text) == f"recipe {r}: duplicate key 'filters' at line 9 (first at line 4)"


def test_a_duplicate_nested_key_names_its_path(tmp_path):
    r = tmp_path / "r.yaml"
    text = VALID + "filters:\n  url:\n    enabled: true\n    domains: [a.txt]\n    enabled: false\n"
    assert load_error(r, text) == f"recipe {r}: duplicate key 'filters.url.enabled' at line 8 (first at line 6)"


def test_keys_equal_as_values_are_duplicates(tmp_path):
    r = tmp_path / "r.yaml"
    text = VALID + "filters:\n  gopher_repetition:\n    max_top_ngram_char_ratio: {2: 0.2, 0x2: 0.1}\n"
    assert load_error(r, text) == (
        f"recipe {r}: duplicate key 'filters.gopher_repetition.max_top_ngram_char_ratio.2' at line 6 "
        "(first at line 6)")


def test_a_duplicate_key_exits_with_status_2(tmp_path, capsys):
    r = tmp_path / "r.yaml"
    r.write_text("name: a\nname: b\ninput:\n  paths: [a.warc.gz]\n")
    assert main(["--config", str(r), "--output", str(tmp_path / "out")]) == 2
    assert capsys.readouterr().err == (
        f"warcforge: error: recipe {r}: duplicate key 'name' at line 2 (first at line 1)\n")
    assert not (tmp_path / "out").exists()


# --- anchors, aliases, merge keys ----------------------------------------------------------------

def billion_laughs(levels: int, width: int) -> str:
    lines = [f"l0: &l0 [{', '.join(['lol'] * width)}]"]
    for level in range(1, levels):
        lines.append(f"l{level}: &l{level} [{', '.join([f'*l{level - 1}'] * width)}]")
    return "name: t\ninput:\n  paths: [a.warc.gz]\n" + "\n".join(lines) + f"\ndescription: *l{levels - 1}\n"


def test_an_alias_bomb_is_refused_at_once_without_expanding_it(tmp_path):
    r = tmp_path / "r.yaml"
    document = billion_laughs(levels=6, width=10)  # 10^6 laughs from well under 1 KB
    assert len(document) < 1024
    started = time.perf_counter()
    message = load_error(r, document)
    assert time.perf_counter() - started < 0.5
    assert message == (f"recipe {r}: YAML anchor '&l0' at line 4: recipes do not use anchors, aliases "
                       "or merge keys; write the value out")


def test_an_alias_alone_is_refused_with_its_line(tmp_path):
    r = tmp_path / "r.yaml"
    assert load_error(r, VALID + "description: *nowhere\n") == (
        f"recipe {r}: YAML alias '*nowhere' at line 4: recipes do not use anchors, aliases or merge keys; "
        "write the value out")


def test_a_merge_key_is_refused(tmp_path):
    r = tmp_path / "r.yaml"
    text = VALID + "output:\n  num_shards: 2\n  <<: {num_shards: 3}\n"
    assert load_error(r, text) == (
        f"recipe {r}: YAML merge key '<<' at line 6: recipes do not use anchors, aliases or merge keys; "
        "write the value out")


def test_deep_nesting_is_refused_with_its_line(tmp_path):
    r = tmp_path / "r.yaml"
    # A few KB of brackets would otherwise exhaust the parser's recursion: a traceback, not a message.
    assert load_error(r, VALID + "description: " + "[" * 5000 + "]" * 5000 + "\n") == (
        f"recipe {r}: nested more than 32 levels deep at line 4; recipes nest a few levels")


# --- size ---------------------------------------------------------------------------------------

def test_a_file_larger_than_the_cap_is_refused_before_parsing(tmp_path):
    r = tmp_path / "r.yaml"
    # Not YAML at all: a parser that ran would say so instead.
    assert load_error(r, b"[" * (MAX_RECIPE_BYTES + 1)) == (
        f"recipe {r}: 1,048,577 bytes; a recipe file may have at most 1,048,576 (1 MiB)")


def test_a_file_at_the_cap_is_read(tmp_path):
    r = tmp_path / "r.yaml"
    padding = MAX_RECIPE_BYTES - len(VALID.encode()) - 1
    r.write_text(VALID + "#" + "x" * padding)
    assert r.stat().st_size == MAX_RECIPE_BYTES
    assert load_recipe(r).name == "t"


# --- encoding -----------------------------------------------------------------------------------

def test_a_recipe_that_is_not_utf8_is_named_with_the_byte_and_line(tmp_path):
    r = tmp_path / "r.yaml"
    assert load_error(r, b"name: t\ninput:\n  paths: [caf\xe9.warc.gz]\n") == (
        f"recipe {r}: not UTF-8 (byte 0xe9 at line 3)")


def test_a_recipe_that_is_not_utf8_exits_with_status_2(tmp_path, capsys):
    r = tmp_path / "r.yaml"
    r.write_bytes(b"\xff\xfen\x00a\x00m\x00e\x00")  # UTF-16
    assert main(["--config", str(r), "--output", str(tmp_path / "out")]) == 2
    assert capsys.readouterr().err == f"warcforge: error: recipe {r}: not UTF-8 (byte 0xff at line 1)\n"


# --- relative paths -----------------------------------------------------------------------------

def test_relative_paths_build_from_another_working_directory(sample_dir, tmp_path, monkeypatch):
    recipes = tmp_path / "recipes"
    (recipes / "data").mkdir(parents=True)
    (recipes / "lists").mkdir()
    shutil.copy(sample_dir / SHARD, recipes / "data" / SHARD)
    (recipes / "lists" / "domains.txt").write_text("blocked.example\n")
    written = {"name": "t", "input": {"paths": ["data/*.warc.gz"]},
               "filters": {"url": {"enabled": True, "domains": ["lists/domains.txt"]}}}
    (recipes / "r.yaml").write_text(json.dumps(written))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)

    manifest = build(recipes / "r.yaml", tmp_path / "out")

    assert (manifest["input_root"], manifest["inputs"][0]["warc_path"]) == (str(recipes / "data"), SHARD)
    assert manifest["documents"] > 0
    # The manifest keeps the recipe as written: same keys, same strings, same digest.
    assert manifest["recipe"]["input"]["paths"] == ["data/*.warc.gz"]
    assert manifest["recipe"]["filters"]["url"]["domains"] == ["lists/domains.txt"]
    assert manifest["recipe_sha256"] == parse_recipe(written).digest()


def test_blocklists_resolve_against_the_recipe_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    recipe = parse_recipe({"name": "t", "input": {"paths": ["a.warc.gz"]}, "filters": {"url": {
        "enabled": True, "domains": ["lists/d.txt"], "urls": ["../u.txt"], "words": ["https://h/w.txt"],
        "subwords": ["/abs/s.txt"]}}}, folder="/srv/recipes")
    url = filter_settings(recipe).url
    assert (url.domains, url.urls, url.words, url.subwords) == (
        ("/srv/recipes/lists/d.txt",), ("/srv/u.txt",), ("https://h/w.txt",), ("/abs/s.txt",))


def test_urls_absolute_paths_and_home_are_not_moved():
    recipe = parse_recipe({"name": "t", "input": {"paths": ["a.warc.gz"]}}, folder="/srv/recipes")
    assert recipe.resolve_path("s3://bucket/x.warc.gz") == "s3://bucket/x.warc.gz"
    assert recipe.resolve_path("/data/x.warc.gz") == "/data/x.warc.gz"
    assert recipe.resolve_path("~/x.warc.gz") == os.path.expanduser("~/x.warc.gz")


def test_a_recipe_without_a_file_resolves_against_the_working_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    recipe = parse_recipe({"name": "t", "input": {"paths": ["data/*.warc.gz"]}})
    assert recipe.resolved_input().paths == [str(tmp_path / "data" / "*.warc.gz")]


def test_a_recipe_read_from_a_url_resolves_against_that_url_folder():
    recipe = parse_recipe({"name": "t", "input": {"paths": ["data/*.warc.gz", "../shared/x.warc.gz"]}},
                          folder="s3://b/recipes")
    assert recipe.resolved_input().paths == ["s3://b/recipes/data/*.warc.gz", "s3://b/shared/x.warc.gz"]
    assert recipe.resolve_path("lists/d.txt") == "s3://b/recipes/lists/d.txt"
    assert recipe.resolve_path("../../../x.txt") == "s3://b/x.txt"  # '..' stops at the bucket, as at '/'
    host = parse_recipe({"name": "t", "input": {"paths": ["../x.warc.gz"]}}, folder="https://h.example/r")
    assert host.resolved_input().paths == ["https://h.example/x.warc.gz"]


def test_load_recipe_from_a_url_takes_the_url_folder():
    fs = fsspec.filesystem("memory")
    fs.pipe("/warcforge-recipes/team/r.yaml", b"name: t\ninput:\n  paths: [data/*.warc.gz]\n")
    try:
        recipe = load_recipe("memory://warcforge-recipes/team/r.yaml")
    finally:
        fs.rm("/warcforge-recipes", recursive=True)
    assert recipe.resolved_input().paths == ["memory://warcforge-recipes/team/data/*.warc.gz"]


def test_input_option_paths_resolve_against_the_working_directory(tmp_path, monkeypatch):
    recipe_dir = tmp_path / "recipes"
    recipe_dir.mkdir()
    (recipe_dir / "r.yaml").write_text("name: t\ninput:\n  paths: [data/*.warc.gz]\nfilters:\n  url:\n"
                                       "    enabled: true\n    domains: [lists/d.txt]\n")
    monkeypatch.chdir(tmp_path)
    recipe = load_recipe(recipe_dir / "r.yaml").with_inputs(["here/*.warc.gz"])
    assert recipe.resolved_input().paths == [str(tmp_path / "here" / "*.warc.gz")]
    assert recipe.input.paths == ["here/*.warc.gz"]  # the manifest records what was given
    assert filter_settings(recipe).url.domains == (str(recipe_dir / "lists" / "d.txt"),)


def test_resolving_leaves_the_recipe_as_written():
    data = {"name": "t", "input": {"paths": ["data/*.warc.gz"]}}
    located = parse_recipe(data, folder="/srv/recipes")
    assert located.model_dump() == parse_recipe(data).model_dump()
    assert located.digest() == parse_recipe(data).digest()
    assert located.input.paths == ["data/*.warc.gz"]


def test_shipped_recipes_name_paths_relative_to_configs(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    sample = load_recipe(REPO / "configs" / "sample.yaml")
    assert sample.resolved_input().paths == [str(REPO / "build" / "sample" / "*.warc.gz")]  # make run's sample
    for name in ("fineweb-like.yaml", "c4-like.yaml"):
        recipe = load_recipe(REPO / "configs" / name)
        assert recipe.resolved_input().paths == [
            str(REPO.parent / "shared" / "data" / "real-html" / "real-html-0000*.warc.gz")]
    lists = filter_settings(load_recipe(REPO / "configs" / "fineweb-like.yaml")).url
    for location in (*lists.domains, *lists.urls, *lists.words, *lists.subwords):
        assert Path(location).is_file(), location
