"""warcforge watch unbounded, out of the box: on Beam's Prism runner (built from Beam's Go module and
cached, as `warcforge watch` does when no --runner is given), watching a folder files are copied into."""

import shutil
import signal
import subprocess
import time

import pytest

from beam_jobs.prism import PrismUnavailableError, prism_binary
from tests.conftest import WARCFORGE, build, write_recipe
from tests.watch_helpers import (
    assert_same_documents_as_build,
    batch_manifests,
    ledger,
    wait_for_file,
    write_watch_recipe,
)

# A file is published once its size held for a poll (0.5 s), its window closed (2 s) and the batch
# went through; on this 2-core machine that takes a few seconds. The bound leaves room for a slow CI.
PUBLISH_WITHIN_S = 45


@pytest.fixture(scope="module")
def prism() -> str:
    try:
        return prism_binary()
    except PrismUnavailableError as exc:
        pytest.skip(str(exc))


def start_watch(recipe, output, prism_location: str, *extra: str) -> subprocess.Popen:
    return subprocess.Popen([WARCFORGE, "watch", "--config", str(recipe), "--output", str(output),
                             f"--prism_location={prism_location}", *extra],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def stop(watch: subprocess.Popen, signum: int) -> tuple[int, str, str]:
    watch.send_signal(signum)
    out, err = watch.communicate(timeout=120)
    return watch.returncode, out, err


def test_files_landing_over_time_are_published_in_batches_and_a_restart_reads_none_again(
        prism, sample_dir, shared_warc, tmp_path):
    landing = tmp_path / "landing"
    landing.mkdir()
    recipe = write_watch_recipe(tmp_path / "watch.yaml", landing)
    output = tmp_path / "stream"
    watch = start_watch(recipe, output, prism)
    lags = {}
    try:
        arriving = [(sample_dir / f"sample-0000{i}.warc.gz", f"sample-0000{i}.warc.gz") for i in range(3)]
        arriving.append((shared_warc / "commoncrawl_whirlwind-python__whirlwind.warc.gz", "whirlwind.warc.gz"))
        arriving.append((sample_dir / "sample-00001.warc.gz", "repeat-00001.warc.gz"))  # every page seen before
        for source, name in arriving:
            shutil.copy(source, landing / f".{name}")
            (landing / f".{name}").rename(landing / name)  # lands whole: the test is not about half-copied files
            lags[name] = wait_for_file(output, name, PUBLISH_WITHIN_S)
        code, out, err = stop(watch, signal.SIGINT)
    finally:
        if watch.poll() is None:
            watch.kill()
    assert code == 0, err
    assert "watch stopped (SIGINT)" in err and "Traceback" not in err
    assert out.count("watch: published batch") == len(ledger(output))
    manifests = batch_manifests(output)
    repeat = next(m for m in manifests.values() if [i["warc_path"] for i in m["inputs"]] == ["repeat-00001.warc.gz"])
    assert repeat["documents"] == 0 and repeat["seen_before"] > 0
    assert sum(len(m["inputs"]) for m in manifests.values()) == len(arriving)  # each file in exactly one batch
    distinct = [str(landing / name) for _, name in arriving[:-1]]
    build(write_recipe(tmp_path / "build.yaml", distinct), tmp_path / "built")
    assert_same_documents_as_build(output, tmp_path / "built")
    print("publish lag per file (s):", {name: round(lag, 1) for name, lag in lags.items()})

    # Started again: nothing is read again; a new file is.
    published = set(ledger(output))
    watch = start_watch(recipe, output, prism)
    try:
        time.sleep(6)
        shutil.copy(sample_dir / "sample-00003.warc.gz", landing / ".late.warc.gz")
        (landing / ".late.warc.gz").rename(landing / "late.warc.gz")
        wait_for_file(output, "late.warc.gz", PUBLISH_WITHIN_S)
        code, out, err = stop(watch, signal.SIGTERM)
    finally:
        if watch.poll() is None:
            watch.kill()
    assert code == 0 and "watch stopped (SIGTERM)" in err, err
    new = set(ledger(output)) - published
    assert len(new) == 1
    assert [i["warc_path"] for i in batch_manifests(output)[new.pop()]["inputs"]] == ["late.warc.gz"]
    assert [line for line in err.splitlines() if line.startswith("warcforge: read ")] == [
        line for line in err.splitlines() if line.startswith("warcforge: read ") and "late.warc.gz" in line]
