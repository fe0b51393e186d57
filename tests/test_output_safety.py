"""An output directory is never lost and never mixed: what --overwrite may delete, what is refused,
and the lease that keeps a second build out."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from testbed.linked_copies import linked_copies
from tests.conftest import WARCFORGE, build, write_recipe
from transforms.common.errors import OutputBusyError, OutputExistsError
from transforms.writing.lease import Holder, lease_name
from transforms.writing.output_dir import OutputPathError
from transforms.writing.publish import Publisher


@pytest.fixture(scope="module")
def small_input(sample_dir) -> str:
    return str(sample_dir / "sample-00000.warc.gz")


def tree(path: Path) -> dict[str, bytes]:
    return {p.relative_to(path).as_posix(): p.read_bytes() for p in sorted(path.rglob("*")) if p.is_file()}


def assert_complete_dataset(out: Path) -> dict:
    """The directory reads as one complete dataset: every file its manifest lists, with its sha256."""
    manifest = json.loads((out / "manifest.json").read_text())
    for section in manifest["files"].values():
        for entry in section:
            data = (out / entry["path"]).read_bytes()
            assert len(data) == entry["bytes"], entry["path"]
            import hashlib
            assert hashlib.sha256(data).hexdigest() == entry["sha256"], entry["path"]
    listed = {e["path"] for section in manifest["files"].values() for e in section}
    on_disk = {p for p in tree(out) if p.split("/")[0] in ("data", "dead_letter", "rejected")}
    assert on_disk == listed, "files in the dataset's folders that the manifest does not list"
    return manifest


def test_overwrite_keeps_what_a_user_added_beside_the_dataset(tmp_path, small_input):
    out = tmp_path / "out"
    build(write_recipe(tmp_path / "a.yaml", [small_input], output={"num_shards": 3}), out)
    (out / "NOTES.md").write_text("my notes")
    (out / "analysis").mkdir()
    (out / "analysis" / "nb.ipynb").write_text("{}")
    manifest = build(write_recipe(tmp_path / "b.yaml", [small_input], output={"num_shards": 2}), out, "--overwrite")
    assert (out / "NOTES.md").read_text() == "my notes"
    assert (out / "analysis" / "nb.ipynb").read_text() == "{}"
    assert assert_complete_dataset(out)["files"] == manifest["files"]
    assert len(manifest["files"]["data"]) == 2


def test_a_directory_with_a_manifest_json_that_is_not_warcforges_is_never_touched(tmp_path, small_input):
    app = tmp_path / "webapp"
    (app / "src").mkdir(parents=True)
    (app / "manifest.json").write_text(json.dumps({"name": "My PWA", "start_url": "/", "icons": []}))
    (app / "index.html").write_text("<html></html>")
    (app / "src" / "main.js").write_text("console.log(1)")
    before = tree(app)
    recipe = write_recipe(tmp_path / "r.yaml", [small_input])
    for extra in ((), ("--overwrite",)):
        with pytest.raises(OutputExistsError, match="holds a manifest.json that is not a warcforge manifest"):
            build(recipe, app, *extra)
    assert tree(app) == before
    assert not [p for p in app.iterdir() if p.name.startswith(".warcforge")]


def test_a_file_in_the_datasets_folders_that_the_manifest_does_not_list_is_refused_by_name(tmp_path, small_input):
    out = tmp_path / "out"
    recipe = write_recipe(tmp_path / "r.yaml", [small_input])
    build(recipe, out)
    (out / "data" / "mine.parquet").write_bytes(b"not warcforge's")
    before = tree(out)
    with pytest.raises(OutputExistsError, match=r"does not list \(data/mine.parquet\)"):
        build(recipe, out, "--overwrite")
    assert tree(out) == before


def test_an_output_path_under_a_file_or_read_only_is_a_user_error(tmp_path, small_input):
    recipe = write_recipe(tmp_path / "r.yaml", [small_input])
    (tmp_path / "plain-file").write_text("x")
    with pytest.raises(OutputPathError, match="is a file"):
        build(recipe, tmp_path / "plain-file" / "out")
    # A directory this user may not write: a mode for others, sysfs for root (which ignores modes).
    locked = Path("/sys/kernel") if os.geteuid() == 0 else tmp_path / "locked"
    if os.geteuid() != 0:
        locked.mkdir()
        locked.chmod(0o555)
    elif _writable(locked):
        pytest.skip("no directory here refuses writes to root")
    try:
        with pytest.raises(OutputPathError, match="not writable"):
            build(recipe, locked)
        with pytest.raises(OutputPathError, match="cannot be created"):
            build(recipe, locked / "warcforge-out")
    finally:
        if os.geteuid() != 0:
            locked.chmod(0o755)


def _writable(directory: Path) -> bool:
    try:
        (directory / ".warcforge-probe").write_text("")
    except OSError:
        return False
    (directory / ".warcforge-probe").unlink()
    return True


def test_the_cli_says_a_read_only_output_is_a_user_error(tmp_path, small_input):
    recipe = write_recipe(tmp_path / "r.yaml", [small_input])
    (tmp_path / "plain-file").write_text("x")
    result = subprocess.run([WARCFORGE, "build", "--config", str(recipe), "--output", str(tmp_path / "plain-file")],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1] == (
        f"warcforge: error: output {tmp_path / 'plain-file'} is a file, not a directory")


def test_a_second_build_is_refused_at_once_naming_the_holder(tmp_path, small_input):
    out = tmp_path / "out"
    out.mkdir()
    holder = Holder.of_this_process("warcforge build")  # this test process: alive
    (out / lease_name(7)).write_text(json.dumps(holder.__dict__))
    started = time.monotonic()
    with pytest.raises(OutputBusyError) as caught:
        build(write_recipe(tmp_path / "r.yaml", [small_input]), out)
    assert time.monotonic() - started < 10
    assert f"pid {os.getpid()} on {socket.gethostname()}" in str(caught.value)
    assert sorted(p.name for p in out.iterdir()) == [lease_name(7)]  # nothing written, nothing removed


def test_the_lease_of_a_build_that_died_on_this_host_is_taken_over_at_once(tmp_path, small_input):
    out = tmp_path / "out"
    out.mkdir()
    dead = subprocess.Popen(["sleep", "0"])
    dead.wait()
    holder = Holder.of_this_process("warcforge build")
    (out / lease_name(3)).write_text(json.dumps({**holder.__dict__, "pid": dead.pid, "pid_started": "1"}))
    manifest = build(write_recipe(tmp_path / "r.yaml", [small_input]), out)
    assert assert_complete_dataset(out) == manifest
    assert not [p for p in out.iterdir() if p.name.startswith(".warcforge")]  # its lease released, the old one gone


def test_a_lease_held_elsewhere_expires_only_after_its_ttl(tmp_path, small_input):
    out = tmp_path / "out"
    out.mkdir()
    recipe = write_recipe(tmp_path / "r.yaml", [small_input])
    elsewhere = {**Holder.of_this_process("warcforge build").__dict__, "host": "another-host", "boot_id": "other"}
    (out / lease_name(1)).write_text(json.dumps({**elsewhere, "renewed_at": time.time() - 30, "ttl_s": 600}))
    with pytest.raises(OutputBusyError, match="on another-host"):
        build(recipe, out)
    (out / lease_name(1)).write_text(json.dumps({**elsewhere, "renewed_at": time.time() - 700, "ttl_s": 600}))
    build(recipe, out)
    assert_complete_dataset(out)


def test_two_builds_with_overwrite_started_together_one_wins_nothing_is_lost(tmp_path, small_input):
    out = tmp_path / "out"
    recipe = write_recipe(tmp_path / "r.yaml", [small_input])
    build(recipe, out)
    for _ in range(3):
        runs = [subprocess.Popen([WARCFORGE, "build", "--config", str(recipe), "--output", str(out), "--overwrite"],
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
        results = [(run.wait(timeout=300), run.stderr.read()) for run in runs]
        codes = sorted(code for code, _ in results)
        assert codes == [0, 2], results
        refused = next(err for code, err in results if code == 2)
        assert "is being written by warcforge build" in refused.strip().splitlines()[-1]
        assert_complete_dataset(out)
        assert not [p for p in out.iterdir() if p.name.startswith(".warcforge")]


def test_ctrl_c_ends_with_one_line_and_leaves_the_output_as_it_was(tmp_path, shared_real_html_or_sample):
    out = tmp_path / "out"
    recipe = write_recipe(tmp_path / "r.yaml", shared_real_html_or_sample)
    build(recipe, out)
    before = tree(out)
    for signum, code, word in ((signal.SIGINT, 130, "interrupted"), (signal.SIGTERM, 143, "terminated")):
        run = subprocess.Popen([WARCFORGE, "build", "--config", str(recipe), "--output", str(out), "--overwrite",
                                "--direct_num_workers", "2", "--direct_running_mode", "multi_processing"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
        _wait_for_reading(run)
        if signum == signal.SIGINT:
            os.killpg(run.pid, signum)  # as a terminal does: to the whole foreground group
        else:
            run.send_signal(signum)
        _, err = run.communicate(timeout=120)
        assert run.returncode == code, err
        assert err.strip().splitlines()[-1] == f"warcforge: {word}{' (SIGTERM)' if code == 143 else ''}; " \
                                              "nothing was published, the output is as it was"
        assert "Traceback" not in err
        assert tree(out) == before


def test_ctrl_c_while_the_job_starts_is_one_line_not_a_traceback(tmp_path, small_input):
    out = tmp_path / "out"
    recipe = write_recipe(tmp_path / "r.yaml", [small_input])
    run = subprocess.Popen([sys.executable, "-m", "beam_jobs.job", "build", "--config", str(recipe), "--output",
                            str(out)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    # Beam's compiled modules loading: the job imports, and its own signal handling has not begun.
    while "apache_beam" not in Path(f"/proc/{run.pid}/maps").read_text():
        assert run.poll() is None and time.monotonic() < deadline
        time.sleep(0.002)
    run.send_signal(signal.SIGINT)
    _, err = run.communicate(timeout=120)
    assert run.returncode == 130, err
    assert err.strip().splitlines() == ["warcforge: interrupted while starting; nothing was done"]
    assert not out.exists()


def _wait_for_reading(run: subprocess.Popen) -> None:
    deadline = time.monotonic() + 60
    for line in run.stderr:
        if " input files " in line or time.monotonic() > deadline:
            time.sleep(2)  # the pipeline is running by now
            return


SAMPLE_COPIES = 16  # without ../shared: the sample (2.8 MB) 16 times, a build still running when the signal comes


@pytest.fixture
def shared_real_html_or_sample(sample_dir, tmp_path) -> list[str]:
    """Input a two-worker build is still reading 2 s after it starts: ../shared's real pages (34 MB), or
    links to the sample's files under distinct names (the sample alone is built in about a second)."""
    from tests.conftest import SHARED_REAL_HTML
    if SHARED_REAL_HTML.is_dir():
        return [str(SHARED_REAL_HTML / "real-html-0000*.warc.gz")]
    return linked_copies(sorted(sample_dir.glob("*.warc.gz")), SAMPLE_COPIES, tmp_path / "sample-copies")


def test_a_journal_that_is_not_warcforges_is_refused_not_acted_on(tmp_path, small_input):
    out = tmp_path / "out"
    recipe = write_recipe(tmp_path / "r.yaml", [small_input])
    build(recipe, out)
    (tmp_path / "precious.txt").write_text("keep me")
    (out / ".warcforge-publish.json").write_text(json.dumps(
        {"format": "warcforge-publish/1", "staging": "", "manifest_sha256": "x", "new_files": ["../precious.txt"],
         "old_files": [], "side_files": []}))
    before = tree(out)
    with pytest.raises(OutputExistsError, match=r"\.warcforge-publish\.json is not a warcforge publish journal"):
        build(recipe, out, "--overwrite")
    assert (tmp_path / "precious.txt").read_text() == "keep me"
    assert tree(out) == before


def test_a_failure_after_the_commit_is_a_published_dataset_that_the_next_build_tidies(tmp_path, small_input,
                                                                                       monkeypatch):
    out = tmp_path / "out"
    build(write_recipe(tmp_path / "a.yaml", [small_input], output={"num_shards": 4}), out)
    finish = Publisher._finish
    calls = []

    def disk_full_once(self, journal):
        calls.append(journal)
        if len(calls) == 1:
            raise OSError(28, "No space left on device")
        return finish(self, journal)

    monkeypatch.setattr(Publisher, "_finish", disk_full_once)
    manifest = build(write_recipe(tmp_path / "b.yaml", [small_input], output={"num_shards": 3}), out, "--overwrite")
    assert json.loads((out / "manifest.json").read_text()) == manifest  # published, and said so
    assert (out / ".warcforge-publish.json").exists()  # the clean-up is left to the next build
    build(write_recipe(tmp_path / "b.yaml", [small_input], output={"num_shards": 3}), out, "--overwrite")
    assert_complete_dataset(out)
    assert json.loads((out / "stats.json").read_text())["counts"]["write"]["files"] == 4  # 3 data + 1 dead letter
    assert not [p for p in out.iterdir() if p.name.startswith(".warcforge")]


@pytest.mark.parametrize("left", [[], [".warcforge-tmp-0123456789abcdef0123456789abcdef"]])
def test_a_staging_folder_killed_before_its_marker_was_in_place_is_removed(tmp_path, small_input, left):
    # Killed between making the folder and renaming its marker into place: empty, or holding the marker's
    # temporary file. Nothing but warcforge's own names: the next build removes it.
    recipe = write_recipe(tmp_path / "r.yaml", [small_input])
    out = tmp_path / "out"
    build(recipe, out)
    staging = out / ".warcforge-staging-0123456789abcdef0123456789abcdef"
    staging.mkdir()
    for name in left:
        (staging / name).write_bytes(b"")
    build(recipe, out, "--overwrite")
    assert not staging.exists()
