"""A build that did not do what was asked never exits 0: flags, stray arguments and user errors are
refused before work with one line naming them and exit status 2."""

import subprocess
from pathlib import Path

import pytest

from tests.conftest import WARCFORGE, write_recipe


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([WARCFORGE, *args], capture_output=True, text=True, timeout=180, cwd=cwd)


@pytest.fixture(scope="module")
def recipe(sample_dir, tmp_path_factory) -> Path:
    return write_recipe(tmp_path_factory.mktemp("cli") / "r.yaml", [str(sample_dir / "sample-00000.warc.gz")])


@pytest.mark.parametrize(("extra", "named"), [
    (["--overwirte"], "unknown option --overwirte; did you mean --overwrite?"),
    (["--inputs", "x.warc.gz"], "unknown option --inputs; did you mean --input?"),
    (["--no-such-flag=1"], "unknown option --no-such-flag; see 'warcforge build --help'"),
    (["--input", "a.warc.gz", "b.warc.gz", "c.warc.gz"], "unexpected argument 'b.warc.gz' (and 1 more)"),
    (["--runner=NopeRunner"], "unknown runner --runner=NopeRunner"),
])
def test_a_flag_or_argument_the_build_does_not_know_is_refused_before_work(recipe, tmp_path, extra, named):
    result = run("build", "--config", str(recipe), "--output", str(tmp_path / "out"), *extra)
    assert result.returncode == 2, result.stderr
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("warcforge: error: ") and named in line
    assert not (tmp_path / "out").exists()


def test_beams_own_options_still_pass(recipe, tmp_path):
    result = run("build", "--config", str(recipe), "--output", str(tmp_path / "out"), "--runner=DirectRunner",
                 "--direct_num_workers", "1", "--experiments=beam_fn_api", "--quiet")
    assert result.returncode == 0, result.stderr


def test_an_unquoted_glob_names_the_second_file(sample_dir, recipe, tmp_path):
    # What the shell makes of `--input dir/*`: the first match as the value, the rest as arguments.
    files = sorted(str(p) for p in sample_dir.glob("*.warc.gz"))
    result = run("build", "--config", str(recipe), "--output", str(tmp_path / "out"), "--input", *files)
    assert result.returncode == 2
    assert f"unexpected argument {files[1]!r}" in result.stderr and "quote globs" in result.stderr


def test_help_lists_the_exit_codes():
    result = run("build", "--help")
    assert result.returncode == 0
    for line in ("0    the dataset was built", "2    a user error", "3    published, but", "130  interrupted"):
        assert line in result.stdout


def test_sample_onto_an_existing_file_is_one_line(tmp_path):
    (tmp_path / "taken").write_text("x")
    result = run("sample", str(tmp_path / "taken"))
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"warcforge sample: error: cannot write {tmp_path / 'taken'}: File exists"]


def test_a_build_with_no_document_kept_says_so(sample_dir, tmp_path):
    recipe = write_recipe(tmp_path / "r.yaml", [str(sample_dir / "sample-00000.warc.gz")],
                          filters={"language": {"enabled": True, "keep": ["xx"]}})
    result = run("build", "--config", str(recipe), "--output", str(tmp_path / "out"))
    assert result.returncode == 0
    assert "warcforge: warning: the dataset has 0 documents (688 records were read, none was kept" in result.stderr
