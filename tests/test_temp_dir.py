"""A build leaves the temp directory as it found it: what Beam puts there goes to warcforge's own folder,
removed when the process ends."""

import os
import subprocess
import sys
import tempfile

import pytest

from beam_jobs.scratch import temp_files_in_scratch_dir
from tests.conftest import REPO, WARCFORGE, write_recipe

# Until run_build runs inside temp_files_in_scratch_dir() a build still leaves Beam's folders behind; strict, so
# the marker has to go when the wiring comes.
ENTRY_POINTS = {"warcforge build": [WARCFORGE, "build"], "python -m beam_jobs.build": [sys.executable, "-m",
                                                                                          "beam_jobs.build"]}


def run_with_temp_dir(command: list[str], temp) -> subprocess.CompletedProcess:
    return subprocess.run(command, capture_output=True, text=True, cwd=REPO, timeout=300,
                          env={**os.environ, "TMPDIR": str(temp)})


@pytest.mark.parametrize("entry_point", list(ENTRY_POINTS))
def test_a_build_leaves_the_temp_directory_empty(sample_dir, tmp_path, entry_point):
    temp = tmp_path / "tmp"
    temp.mkdir()
    recipe = write_recipe(tmp_path / "r.yaml", [str(sample_dir / "sample-00000.warc.gz")])
    result = run_with_temp_dir([*ENTRY_POINTS[entry_point], "--config", str(recipe), "--output",
                                str(tmp_path / "out")], temp)
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in temp.iterdir()) == []


def test_two_worker_processes_leave_it_empty_too(sample_dir, tmp_path):
    temp = tmp_path / "tmp"
    temp.mkdir()
    recipe = write_recipe(tmp_path / "r.yaml", [str(sample_dir / "sample-00000.warc.gz")])
    result = run_with_temp_dir([WARCFORGE, "build", "--config", str(recipe), "--output", str(tmp_path / "out"),
                                "--direct_num_workers", "2", "--direct_running_mode", "multi_processing"], temp)
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in temp.iterdir()) == []


def test_the_scratch_folder_is_one_per_process_inside_the_temp_directory_and_goes_at_exit(tmp_path):
    script = (
        "import tempfile\n"
        "from beam_jobs.scratch import temp_files_in_scratch_dir\n"
        "with temp_files_in_scratch_dir() as first:\n"
        "    tempfile.mkdtemp(prefix='beam-temp')\n"
        "    with temp_files_in_scratch_dir() as nested:\n"
        "        assert nested == first == tempfile.gettempdir()\n"
        "assert tempfile.gettempdir() != first\n"
        "with temp_files_in_scratch_dir() as second:\n"
        "    assert second == first\n"
        "print(first)\n"
    )
    result = run_with_temp_dir([sys.executable, "-c", script], tmp_path)
    assert result.returncode == 0, result.stderr
    scratch = result.stdout.strip()
    assert os.path.dirname(scratch) == str(tmp_path) and os.path.basename(scratch).startswith("warcforge-")
    assert list(tmp_path.iterdir()) == []


def test_the_temp_directory_is_restored_when_the_run_fails():
    before = tempfile.gettempdir()
    with pytest.raises(RuntimeError), temp_files_in_scratch_dir() as scratch:
        assert tempfile.gettempdir() == scratch != before
        raise RuntimeError("the pipeline failed")
    assert tempfile.gettempdir() == before
