"""The command line as a user meets it: exit codes, exact error messages, output directory rules."""

import json
import re
import subprocess
import sys
from importlib import metadata

import pytest

import transforms.reading.stage
from beam_jobs import cli, verify
from beam_jobs.build_args import (
    EXIT_CODES,
    EXIT_FAILED,
    EXIT_FAILED_SHARDS,
    EXIT_INCOMPLETE,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_TERMINATED,
    EXIT_USAGE,
)
from tests.conftest import REPO, WARCFORGE, build, read_rows, write_recipe
from transforms.common.errors import OutputExistsError


def run(*args: str, cwd=REPO) -> subprocess.CompletedProcess:
    return subprocess.run([WARCFORGE, *args], capture_output=True, text=True, cwd=cwd, timeout=300)


COMMANDS = ("build", "refresh", "watch", "lock", "verify", "materialize", "report", "inspect", "sample", "crawls")


def test_no_command_prints_usage_and_fails():
    result = run()
    assert result.returncode == 2 and "usage: warcforge <command>" in result.stdout
    assert all(re.search(rf"^    {name} +\S", result.stdout, re.M) for name in COMMANDS)


def test_unknown_command():
    result = run("frobnicate")
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr.startswith("warcforge: unknown command 'frobnicate'\n\nusage: warcforge <command>")
    assert run("buidl").stderr.startswith("warcforge: unknown command 'buidl'; did you mean 'build'?\n")


def test_an_option_before_the_command_is_refused():
    result = run("--quiet", "build")
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr.splitlines()[-1] == ("warcforge: error: unrecognized arguments: --quiet (a command's options "
                                              "go after its name)")


def test_help_lists_every_command_and_the_exit_codes():
    result = run("--help")
    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout.startswith("usage: warcforge <command> [options]\n")
    listed = re.findall(r"^    ([a-z]+) +\S", result.stdout, re.M)  # each with its one-line description
    assert listed == list(COMMANDS) == list(cli.COMMANDS)
    assert EXIT_CODES in result.stdout
    for code in EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_FAILED_SHARDS, EXIT_INCOMPLETE, EXIT_INTERRUPTED:
        assert re.search(rf"^  {code} +\S", result.stdout, re.M), code
    assert f"{EXIT_TERMINATED} terminated" in result.stdout
    assert "verify: problems were found" in result.stdout  # what 1 means for verify
    for code in verify.EXIT_PROBLEMS, verify.EXIT_USAGE, verify.EXIT_INTERRUPTED:
        assert re.search(rf"^  {code} +\S", result.stdout, re.M)


@pytest.mark.parametrize("command", COMMANDS)
def test_each_commands_help_shows_its_options_and_an_example(command):
    result = run(command, "--help")
    assert (result.returncode, result.stderr) == (0, ""), result.stderr
    assert result.stdout.startswith(f"usage: warcforge {command} ")
    assert "options:" in result.stdout and re.search(rf"^examples?:\n  warcforge {command} ", result.stdout, re.M)


def test_the_build_help_prints_the_same_exit_codes_as_the_top_level():
    assert EXIT_CODES in run("build", "--help").stdout


@pytest.mark.parametrize("argv", [
    ["build", "--config", "r.yaml", "--", "-x", "a b", "--flag=1", "-o", "o", "--help", "-V", "--version"],
    ["inspect", "--", "--version"],
    ["lock", "-h"],
    ["sample"],
])
def test_a_command_gets_what_follows_its_name_as_given(argv):
    args, rest = cli.build_parser().parse_known_args(argv)
    assert (args.command, rest) == (argv[0], argv[1:])


def loads_module(call: str, module: str) -> bool:
    """Whether a fresh Python that imports the launcher and runs ``call`` on its parser has ``module`` loaded."""
    code = f"import sys; from beam_jobs import cli; cli.build_parser().{call}; print({module!r} in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=60)
    assert result.stdout in ("True\n", "False\n"), result.stderr
    return result.stdout == "True\n"


def test_help_loads_no_beam():
    assert not loads_module("format_help()", "apache_beam")


def test_the_launcher_reads_no_package_metadata_unless_asked_for_the_version():
    # Every 'warcforge build' starts here before its own process: the version is looked up by --version alone.
    assert not loads_module("parse_known_args(['build', '--config', 'r'])", "importlib.metadata")


def test_bad_recipe_stops_before_any_work(tmp_path):
    recipe = tmp_path / "bad.yaml"
    recipe.write_text("name: x\ninput:\n  paths: [a.warc.gz]\noutput:\n  num_shards: many\n  codec: zstd\n")
    result = run("build", "--config", str(recipe), "--output", str(tmp_path / "out"))
    assert result.returncode == 2
    assert result.stderr == (
        f"warcforge: error: recipe {recipe}: key 'output.num_shards': Input should be a valid integer "
        "(got 'many'); unknown key 'output.codec' (allowed here: num_shards, dead_letter_shards, compression, "
        "compression_level, row_group_rows, rejected_shards, format)\n"
    )
    assert not (tmp_path / "out").exists()


def test_missing_input_file_is_named(tmp_path):
    recipe = write_recipe(tmp_path / "r.yaml", [str(tmp_path / "nowhere.warc.gz")])
    result = run("build", "--config", str(recipe), "--output", str(tmp_path / "out"))
    assert result.returncode == 2
    assert result.stderr == f"warcforge: error: input file not found: {tmp_path / 'nowhere.warc.gz'}\n"
    assert not (tmp_path / "out").exists()


def test_glob_matching_nothing_is_named(tmp_path):
    recipe = write_recipe(tmp_path / "r.yaml", ["data/*.warc.gz"])
    result = run("build", "--config", str(recipe), "--output", str(tmp_path / "out"), "--input",
                 str(tmp_path / "*.warc.gz"))
    assert result.returncode == 2
    assert result.stderr == f"warcforge: error: input '{tmp_path / '*.warc.gz'}' matched no files\n"


def test_module_entry_point_and_console_script_agree(tmp_path):
    recipe = write_recipe(tmp_path / "r.yaml", [str(tmp_path / "nowhere.warc.gz")])
    as_module = subprocess.run([sys.executable, "-m", "beam_jobs.build", "--config", str(recipe), "--output",
                                str(tmp_path / "out")], capture_output=True, text=True, cwd=REPO, timeout=300)
    as_script = run("build", "--config", str(recipe), "--output", str(tmp_path / "out"))
    assert (as_module.returncode, as_module.stderr) == (as_script.returncode, as_script.stderr)


def test_sample_command_and_a_full_build_through_the_cli(tmp_path):
    result = run("sample", str(tmp_path / "sample"))
    assert result.returncode == 0 and "wrote 4 shards" in result.stdout
    out = tmp_path / "out"
    result = run("build", "--config", "configs/sample.yaml", "--input", str(tmp_path / "sample" / "*.warc.gz"),
                 "--output", str(out))
    assert result.returncode == 0, result.stderr
    assert "exact duplicates removed" in result.stdout and "dead letters" in result.stdout
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["recipe"]["input"]["paths"] == [str(tmp_path / "sample" / "*.warc.gz")]


# --- the output directory ------------------------------------------------------------------------

@pytest.fixture()
def small_input(sample_dir):
    return str(sample_dir / "sample-00000.warc.gz")


def test_non_empty_output_is_refused_without_overwrite(tmp_path, small_input):
    recipe = write_recipe(tmp_path / "r.yaml", [small_input])
    build(recipe, tmp_path / "out")
    with pytest.raises(OutputExistsError) as caught:
        build(recipe, tmp_path / "out")
    assert str(caught.value) == (
        f"output {tmp_path / 'out'} already holds a warcforge dataset (214 documents); pass --overwrite to "
        "replace it, or choose another --output"
    )


def test_overwrite_replaces_cleanly(tmp_path, small_input):
    recipe = write_recipe(tmp_path / "r.yaml", [small_input], output={"num_shards": 5})
    build(recipe, tmp_path / "out")
    smaller = write_recipe(tmp_path / "r2.yaml", [small_input], output={"num_shards": 2})
    manifest = build(smaller, tmp_path / "out", "--overwrite")
    names = sorted(p.name for p in (tmp_path / "out" / "data").iterdir())
    assert names == sorted(f["path"].removeprefix("data/") for f in manifest["files"]["data"])
    assert [n[:20] for n in names] == ["part-00000-of-00002-", "part-00001-of-00002-"]
    assert json.loads((tmp_path / "out" / "manifest.json").read_text())["recipe"]["output"]["num_shards"] == 2


def test_overwrite_never_deletes_a_directory_that_is_not_a_warcforge_output(tmp_path, small_input):
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "thesis.tex").write_text("precious")
    recipe = write_recipe(tmp_path / "r.yaml", [small_input])
    with pytest.raises(OutputExistsError, match=r"is not empty and holds no warcforge dataset \(thesis.tex\)"):
        build(recipe, tmp_path / "out", "--overwrite")
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["thesis.tex"]
    assert (tmp_path / "out" / "thesis.tex").read_text() == "precious"


def test_a_failed_run_publishes_nothing_and_keeps_the_previous_output(tmp_path, small_input, monkeypatch):
    recipe = write_recipe(tmp_path / "r.yaml", [small_input])
    build(recipe, tmp_path / "out")
    before = {p.relative_to(tmp_path / "out"): p.read_bytes() for p in (tmp_path / "out").rglob("*") if p.is_file()}

    def explode(*args, **kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(transforms.reading.stage, "read_shard", explode)
    with pytest.raises(Exception, match="disk on fire"):
        build(recipe, tmp_path / "out", "--overwrite")
    after = {p.relative_to(tmp_path / "out"): p.read_bytes() for p in (tmp_path / "out").rglob("*") if p.is_file()}
    assert after == before  # nothing mixed in, nothing removed, no staging left behind
    assert len(read_rows(tmp_path / "out")) > 0


# --- the version ---------------------------------------------------------------------------------

@pytest.mark.parametrize("flag", ["--version", "-V"])
def test_version_prints_the_installed_version(flag):
    result = run(flag)
    assert (result.returncode, result.stdout, result.stderr) == (0, f"warcforge {metadata.version('warcforge')}\n", "")


def test_usage_names_the_version_flag():
    assert "--version" in run("--help").stdout
