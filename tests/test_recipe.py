from pathlib import Path

import pytest

from beam_jobs.recipe import Recipe, load_recipe, parse_recipe
from transforms.common.errors import RecipeError

REPO = Path(__file__).resolve().parent.parent


def error_of(data: object) -> str:
    with pytest.raises(RecipeError) as caught:
        parse_recipe(data, source="r.yaml")
    return str(caught.value)


def minimal(**sections: object) -> dict:
    return {"name": "t", "input": {"paths": ["a.warc.gz"]}, **sections}


def test_every_shipped_recipe_loads():
    recipes = sorted((REPO / "configs").glob("*.yaml"))
    assert recipes
    for path in recipes:
        assert isinstance(load_recipe(path), Recipe)


def test_defaults_are_filled_in():
    recipe = parse_recipe(minimal())
    assert recipe.output.num_shards == 4
    assert recipe.output.compression == "zstd"
    assert recipe.dedup.survivor == "smallest_id"
    assert recipe.extract.main_content is True


def test_unknown_key_names_the_key_and_the_allowed_ones():
    assert error_of(minimal(output={"shards": 3})) == (
        "recipe r.yaml: unknown key 'output.shards' (allowed here: num_shards, dead_letter_shards, "
        "compression, compression_level, row_group_rows, rejected_shards, format)"
    )


def test_unknown_top_level_key():
    assert error_of({**minimal(), "dedupe": {}}) == (
        "recipe r.yaml: unknown key 'dedupe' (allowed here: name, description, input, read, extract, filters, dedup, "
        "output, refresh, watch)"
    )


def test_bad_choice_lists_the_allowed_values():
    assert error_of(minimal(dedup={"survivor": "first"})) == (
        "recipe r.yaml: key 'dedup.survivor': Input should be 'smallest_id', 'earliest' or 'latest' (got 'first')"
    )


def test_out_of_range_value():
    assert error_of(minimal(output={"num_shards": 0})) == (
        "recipe r.yaml: key 'output.num_shards': Input should be greater than or equal to 1 (got 0)"
    )


def test_wrong_type_is_not_coerced():
    assert error_of(minimal(output={"num_shards": "4"})) == (
        "recipe r.yaml: key 'output.num_shards': Input should be a valid integer (got '4')"
    )
    assert error_of({"name": "t", "input": {"paths": "a.warc.gz"}}) == (
        "recipe r.yaml: key 'input.paths': Input should be a valid list (got 'a.warc.gz')"
    )


def test_missing_required_keys():
    assert error_of({"name": "t"}) == (
        "recipe r.yaml: give exactly one of 'input.paths' or 'input.crawl' (or a 'refresh' section, which picks "
        "the crawls, or a 'watch' section, which follows where files land)")
    assert error_of({"name": "t", "input": {"paths": []}}) == (
        "recipe r.yaml: key 'input.paths': List should have at least 1 item after validation, not 0 (got [])"
    )


def test_top_level_must_be_a_mapping():
    assert error_of(["a"]) == "recipe r.yaml: the top level must be a mapping of keys, got list"


def test_unreadable_and_unparsable_files(tmp_path):
    with pytest.raises(RecipeError, match=r"recipe .*nope\.yaml: cannot be read \(No such file or directory\)"):
        load_recipe(tmp_path / "nope.yaml")
    broken = tmp_path / "broken.yaml"
    broken.write_text("name: [unclosed\n")
    with pytest.raises(RecipeError) as caught:
        load_recipe(broken)
    assert str(caught.value) == (
        f"recipe {broken}: not valid YAML at line 2, column 1: expected ',' or ']', but got '<stream end>'"
    )


def test_digest_ignores_formatting_and_follows_values():
    a = parse_recipe(minimal())
    b = parse_recipe(minimal(output={"num_shards": 4}))  # the default, written out
    c = parse_recipe(minimal(output={"num_shards": 5}))
    assert a.digest() == b.digest() != c.digest()


def test_with_inputs_replaces_the_sources():
    recipe = parse_recipe(minimal()).with_inputs(["s3://bucket/x.warc.gz"])
    assert recipe.input.paths == ["s3://bucket/x.warc.gz"]


def test_long_values_are_cut_short_in_messages():
    long_choice = "x" * 500
    assert error_of(minimal(output={"compression": long_choice})) == (
        "recipe r.yaml: key 'output.compression': Input should be 'zstd', 'snappy', 'gzip' or 'none' "
        f"(got {repr(long_choice)[:80]}… 502 characters in all)"
    )


def test_short_values_are_echoed_whole():
    assert error_of(minimal(output={"compression": "x" * 78})).endswith(f"(got '{'x' * 78}')")


def test_description_has_a_length_cap():
    assert parse_recipe(minimal(description="d" * 10_000)).description == "d" * 10_000
    assert error_of(minimal(description="d" * 10_001)) == (
        "recipe r.yaml: key 'description': String should have at most 10000 characters "
        f"(got '{'d' * 79}… 10,003 characters in all)"
    )


def test_long_unknown_keys_are_cut_short_in_messages():
    assert error_of({**minimal(), "k" * 300: 1}).startswith(
        f"recipe r.yaml: unknown key '{'k' * 80}… 300 characters in all' (allowed here: name, ")
