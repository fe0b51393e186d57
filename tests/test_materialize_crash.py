"""materialize publishes like a build: killed at any moment it leaves the output as it was or complete,
the next run repairs and finishes, and of two runs racing into one output one wins, one is refused."""

import random
import subprocess
import sys
import time

import pytest

from tests.conftest import build, published_bytes, write_recipe
from tests.test_output_crash import JOURNAL, dataset_state, leftovers

MATERIALIZE = [sys.executable, "-m", "beam_jobs.materialize"]
NOT_THE_DATASET = ("run_info.json", "stats.json", "inputs.json")


@pytest.fixture(scope="module")
def pointers(sample_dir, tmp_path_factory):
    work = tmp_path_factory.mktemp("materialize-crash")
    recipe = write_recipe(work / "r.yaml", [str(sample_dir / "*.warc.gz")], output={"num_shards": 200})
    build(recipe, work / "pointers", "--pointers")
    return work / "pointers"


def _start(pointers, out, *extra: str) -> subprocess.Popen:
    return subprocess.Popen([*MATERIALIZE, str(pointers), "--output", str(out), "--quiet", *extra],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def test_killed_at_random_moments_it_never_leaves_half_a_dataset(pointers, tmp_path):
    out, rng = tmp_path / "out", random.Random(20261130)
    complete = None
    for attempt in range(6):
        run = _start(pointers, out, "--overwrite")
        started = time.monotonic()
        if attempt % 2:  # inside the publish: from the journal's appearance
            while not (out / JOURNAL).exists() and run.poll() is None and time.monotonic() - started < 300:
                time.sleep(0.001)
            time.sleep(rng.uniform(0, 0.05))
        else:
            time.sleep(rng.uniform(0.5, 6.0))
        run.kill()
        run.wait(timeout=60)
        state = dataset_state(out)  # every listed file present with its sha256
        assert state is None or complete is None or state == complete
        if state is not None:
            complete = state
    finished = _start(pointers, out, "--overwrite")
    assert finished.wait(timeout=600) == 0, finished.stderr.read()
    assert leftovers(out, dataset_state(out)) == []


def test_two_runs_racing_into_one_output(pointers, tmp_path):
    out = tmp_path / "raced"
    runs = [_start(pointers, out), _start(pointers, out)]
    codes = sorted(run.wait(timeout=600) for run in runs)
    assert codes == [0, 2], [run.stderr.read() for run in runs]
    loser = next(run for run in runs if run.returncode == 2)
    assert "warcforge: error: " in loser.stderr.read()
    again = tmp_path / "alone"
    assert _start(pointers, again).wait(timeout=600) == 0
    assert published_bytes(out, NOT_THE_DATASET) == published_bytes(again, NOT_THE_DATASET)
