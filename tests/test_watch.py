"""warcforge watch, bounded (--once, on the DirectRunner): batches, the ledger, dedup across batches,
failed files and their retries, and the refusals. The same stages run unbounded in test_watch_stream.py."""

import hashlib
import json
import shutil

from tests.conftest import build, write_recipe
from tests.watch_helpers import (
    assert_same_documents_as_build,
    batch_manifests,
    build_documents,
    ledger,
    published_documents,
    watch_once,
    write_watch_recipe,
)
from transforms.writing.lease import Holder, Lease


def test_batches_hold_what_a_build_of_the_same_files_holds_and_a_repeat_is_seen_before(
        sample_dir, shared_warc, tmp_path):
    landing = tmp_path / "landing"
    landing.mkdir()
    recipe = write_watch_recipe(tmp_path / "watch.yaml", landing)
    output = tmp_path / "stream"
    shutil.copy(sample_dir / "sample-00000.warc.gz", landing)
    shutil.copy(shared_warc / "commoncrawl_whirlwind-python__whirlwind.warc.gz", landing / "whirlwind.warc.gz")
    first = watch_once(recipe, output)
    assert first.returncode == 0, first.stderr
    assert len(ledger(output)) == 1 and "watch: published batch" in first.stdout
    shutil.copy(sample_dir / "sample-00001.warc.gz", landing)
    # The same records again under another name: every page was published in the first batch.
    shutil.copy(sample_dir / "sample-00000.warc.gz", landing / "copy-of-00000.warc.gz")
    second = watch_once(recipe, output)
    assert second.returncode == 0, second.stderr
    manifests = batch_manifests(output)
    assert len(manifests) == 2
    later = manifests[max(manifests)]
    assert sorted(i["warc_path"] for i in later["inputs"]) == ["copy-of-00000.warc.gz", "sample-00001.warc.gz"]
    first_batch = manifests[min(manifests)]
    sample0_kept = [row for row in published_documents(output) if row[2] == "sample-00000.warc.gz"]
    assert later["seen_before"] == len(sample0_kept) > 0
    # The union of the batches is the build of the distinct files: same ids, texts and warc paths.
    distinct = [str(landing / n) for n in ("sample-00000.warc.gz", "whirlwind.warc.gz", "sample-00001.warc.gz")]
    build(write_recipe(tmp_path / "build.yaml", distinct), tmp_path / "built")
    assert_same_documents_as_build(output, tmp_path / "built")
    assert first_batch["documents"] + later["documents"] == len(build_documents(tmp_path / "built"))
    # The ledger names each manifest by its bytes, and each batch's files.
    for name, entry in ledger(output).items():
        data = (output / "batches" / name / "manifest.json").read_bytes()
        assert entry["manifest_sha256"] == hashlib.sha256(data).hexdigest()
        assert sorted(entry["files"]) == sorted(i["url"] for i in json.loads(data)["inputs"])
    # Nothing new: no batch, nothing read.
    third = watch_once(recipe, output)
    assert third.returncode == 0 and "nothing new" in third.stdout and "read " not in third.stderr
    assert len(ledger(output)) == 2


def test_a_file_that_cannot_be_read_is_listed_as_failed_and_read_again_up_to_the_cap(sample_dir, tmp_path):
    landing = tmp_path / "landing"
    landing.mkdir()
    recipe = write_watch_recipe(tmp_path / "watch.yaml", landing, max_file_attempts=2)
    output = tmp_path / "stream"
    shutil.copy(sample_dir / "sample-00002.warc.gz", landing)
    (landing / "broken.warc.gz").write_bytes(b"this is no archive at all\n" * 100)
    first = watch_once(recipe, output)
    assert first.returncode == 3, first.stderr
    (manifest,) = batch_manifests(output).values()
    assert [(f["warc_path"], f["attempt"]) for f in manifest["failed_files"]] == [("broken.warc.gz", 1)]
    assert [i["warc_path"] for i in manifest["inputs"]] == ["sample-00002.warc.gz"] and manifest["documents"] > 0
    second = watch_once(recipe, output)
    assert second.returncode == 3, second.stderr
    latest = batch_manifests(output)[max(ledger(output))]
    assert [(f["warc_path"], f["attempt"]) for f in latest["failed_files"]] == [("broken.warc.gz", 2)]
    assert latest["inputs"] == []
    # Two attempts failed: the file is not read again, and the watch says so.
    third = watch_once(recipe, output)
    assert third.returncode == 0 and "nothing new" in third.stdout
    assert "failed 2 times (watch.max_file_attempts)" in third.stderr
    # A file repaired under the same name is not retried either: the cap is per name.
    assert len(ledger(output)) == 2


def test_with_a_marker_a_file_is_taken_once_its_marker_is_there(sample_dir, tmp_path):
    landing = tmp_path / "landing"
    landing.mkdir()
    recipe = write_watch_recipe(tmp_path / "watch.yaml", landing, complete_when="marker", marker_suffix=".ok")
    output = tmp_path / "stream"
    shutil.copy(sample_dir / "sample-00003.warc.gz", landing)
    assert "nothing new" in watch_once(recipe, output).stdout
    (landing / "sample-00003.warc.gz.ok").write_bytes(b"")
    taken = watch_once(recipe, output)
    assert taken.returncode == 0, taken.stderr
    (manifest,) = batch_manifests(output).values()
    assert [i["warc_path"] for i in manifest["inputs"]] == ["sample-00003.warc.gz"]


def test_a_stop_between_manifest_and_ledger_is_rolled_forward_and_a_half_written_batch_removed(sample_dir,
                                                                                                tmp_path):
    landing = tmp_path / "landing"
    landing.mkdir()
    recipe = write_watch_recipe(tmp_path / "watch.yaml", landing)
    output = tmp_path / "stream"
    shutil.copy(sample_dir / "sample-00000.warc.gz", landing)
    assert watch_once(recipe, output).returncode == 0
    body = json.loads((output / "ledger.json").read_text())
    (name,) = body["batches"]
    del body["batches"][name]  # as if the watch stopped after the manifest, before the ledger
    (output / "ledger.json").write_text(json.dumps(body))
    half = output / "batches" / "20200101T000000Z-20200101T000002Z" / "data"
    half.mkdir(parents=True)
    (half / "part-00000-of-00004-000000000000.parquet").write_bytes(b"PAR1")
    again = watch_once(recipe, output)
    assert again.returncode == 0, again.stderr
    assert list(ledger(output)) == [name] and not half.parent.exists()
    assert "entered" in again.stderr and "removed" in again.stderr


def test_refusals_name_what_to_fix(sample_dir, tmp_path):
    landing = tmp_path / "landing"
    landing.mkdir()
    output = tmp_path / "stream"

    def refused(watch: dict, **sections: dict) -> str:
        path = tmp_path / "bad.yaml"
        path.write_text(json.dumps({"name": "bad", "watch": watch, **sections}))
        result = watch_once(path, output)
        assert result.returncode == 2, result.stderr
        assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr
        return result.stderr.strip()

    assert "give exactly one of 'paths' or 'cc_news: true'" in refused({"paths": ["x"], "cc_news": True})
    assert "key 'watch.batch_window_s'" in refused({"paths": ["x"], "batch_window_s": 0})
    assert "'batch_window_s' (5) must be at least 'poll_interval_s' (60)" in refused(
        {"paths": ["x"], "batch_window_s": 5})
    assert "give no input.paths" in refused({"paths": ["x"]}, input={"paths": ["y"]})
    assert "unknown key 'watch.poll_interval' (allowed here: paths, root, cc_news," in refused(
        {"paths": ["x"], "poll_interval": 5})
    assert "'marker_suffix' '.gz' ends like an archive's name" in refused(
        {"paths": ["x"], "complete_when": "marker", "marker_suffix": ".gz"})
    assert "'paths' holds an empty path" in refused({"paths": [""]})
    assert "key 'watch.paths': nosuchproto://x/*.warc.gz cannot be read" in refused({"paths": ["nosuchproto://x/*.warc.gz"]})
    plain = write_recipe(tmp_path / "plain.yaml", [str(sample_dir / "sample-00000.warc.gz")])
    result = watch_once(plain, output)
    assert result.returncode == 2 and "has no 'watch' section" in result.stderr
    # A root a build published into, or one another watch holds, is refused.
    recipe = write_watch_recipe(tmp_path / "watch.yaml", landing)
    build(plain, tmp_path / "built")
    result = watch_once(recipe, tmp_path / "built")
    assert result.returncode == 2 and "holds a dataset (manifest.json)" in result.stderr
    output.mkdir()
    lease = Lease.acquire(*_fs_and_path(output), Holder.of_this_process("another watch"), str(output))
    try:
        result = watch_once(recipe, output)
        assert result.returncode == 2 and "is being written by" in result.stderr, result.stderr
    finally:
        lease.release()


def _fs_and_path(path):  # noqa: ANN001, ANN202
    import fsspec

    return fsspec.core.url_to_fs(str(path))


def test_a_watch_over_http_keeps_credentials_out_of_everything_it_writes(sample_dir, tmp_path):
    from testbed.http_server import FileServer

    output = tmp_path / "stream"
    with FileServer(sample_dir) as server:
        url = server.url.replace("://", "://reader:SECRETPW@") + "/sample-00000.warc.gz?token=SECRETTOK"
        recipe = tmp_path / "watch.yaml"
        recipe.write_text(json.dumps({"name": "over-http", "watch": {"paths": [url], "poll_interval_s": 0.5,
                                                                     "batch_window_s": 2}}))
        result = watch_once(recipe, output)
    assert result.returncode == 0, result.stderr
    (manifest,) = batch_manifests(output).values()
    assert manifest["documents"] > 0
    written = [p.read_bytes() for p in output.rglob("*") if p.is_file()]
    assert not any(b"SECRETPW" in data or b"SECRETTOK" in data for data in written)
    assert "SECRET" not in result.stdout + result.stderr


def test_an_output_inside_the_watched_folder_is_never_read_as_input(sample_dir, tmp_path):
    landing = tmp_path / "landing"
    landing.mkdir()
    recipe = tmp_path / "watch.yaml"
    recipe.write_text(json.dumps({"name": "inside", "watch": {"paths": [str(landing)], "poll_interval_s": 0.5,
                                                              "batch_window_s": 2}}))
    shutil.copy(sample_dir / "sample-00000.warc.gz", landing)
    output = landing / "stream"
    first = watch_once(recipe, output)
    assert first.returncode == 0, first.stderr
    again = watch_once(recipe, output)
    assert again.returncode == 0 and "nothing new" in again.stdout, again.stderr
    (manifest,) = batch_manifests(output).values()
    assert [i["warc_path"] for i in manifest["inputs"]] == ["sample-00000.warc.gz"] and not manifest["failed_files"]
