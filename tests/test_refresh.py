"""warcforge refresh against a fake Common Crawl on loopback: each crawl is published once, killed
refreshes leave nothing half-published, two refreshes never build the same crawl, a changed recipe
is refused until --rebuild."""

import gzip
import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from testbed.http_server import FileServer
from tests.conftest import WARCFORGE, gcs_upload, read_rows
from transforms.dedup.normalize import exact_dedup_key

CRAWL_A, CRAWL_B = "CC-MAIN-2099-05", "CC-MAIN-2099-13"
INFO = {CRAWL_A: ("2099-01-20", "2099-02-03"), CRAWL_B: ("2099-03-15", "2099-03-29")}
REFRESH = [sys.executable, "-m", "beam_jobs.refresh"]


def publish_crawl(cc: Path, crawl: str, shards: list[Path]) -> None:
    """Add a crawl to the fake Common Crawl: its WARC files, its paths file, and its collinfo.json entry."""
    segment = f"crawl-data/{crawl}/segments/4102444800000.0/warc"
    (cc / segment).mkdir(parents=True)
    names = []
    for i, shard in enumerate(shards):
        names.append(f"{segment}/{crawl}-{i:05d}.warc.gz")
        shutil.copy(shard, cc / names[-1])
    (cc / f"crawl-data/{crawl}/warc.paths.gz").write_bytes(gzip.compress(("\n".join(names) + "\n").encode()))
    listed = json.loads((cc / "collinfo.json").read_text()) if (cc / "collinfo.json").exists() else []
    start, end = INFO[crawl]
    listed.insert(0, {"id": crawl, "name": f"{crawl} Index", "from": f"{start}T00:00:00", "to": f"{end}T00:00:00"})
    (cc / "collinfo.json").write_text(json.dumps(listed))


@pytest.fixture
def fake_cc(sample_dir, tmp_path):
    """A served Common Crawl with crawl A (two sample shards); ``add_b()`` publishes crawl B, which
    repeats one of A's shards (pages also in A) beside two of its own."""
    cc = tmp_path / "cc"
    cc.mkdir()
    shards = sorted(sample_dir.glob("*.warc.gz"))
    publish_crawl(cc, CRAWL_A, shards[:2])
    with FileServer(cc) as server:
        server.add_b = lambda: publish_crawl(cc, CRAWL_B, [shards[1], *shards[2:]])
        yield server


def write_refresh_recipe(path: Path, base: str, **changes: dict) -> Path:
    recipe = {"name": "cc-refresh", "input": {"kind": "warc", "base": base},
              "refresh": {"since": CRAWL_A}, "output": {"num_shards": 3}, **changes}
    path.write_text(json.dumps(recipe))
    return path


def refresh(recipe: Path, root: str, server: FileServer, *extra: str, env: dict | None = None,
            ) -> subprocess.CompletedProcess:
    return subprocess.run([*REFRESH, "--config", str(recipe), "--output", root, "--index-url",
                           f"{server.url}/collinfo.json", "--quiet", *extra],
                          capture_output=True, text=True, timeout=600, env=env)


def snapshot(directory: Path) -> dict[str, tuple[bytes, int]]:
    return {p.relative_to(directory).as_posix(): (p.read_bytes(), p.stat().st_mtime_ns)
            for p in sorted(directory.rglob("*")) if p.is_file()}


def dataset_bytes(directory: Path) -> dict[str, bytes]:
    """What must be byte-identical between two builds of one crawl (run_info.json holds times)."""
    return {name: data for name, (data, _) in snapshot(directory).items()
            if name not in ("run_info.json", "report.html")}  # the run's times, and the report that shows them


def ledger(root: Path) -> dict:
    return json.loads((root / "ledger.json").read_text())["crawls"]


def test_refresh_publishes_each_crawl_once_and_survives_a_kill(fake_cc, tmp_path):
    recipe = write_refresh_recipe(tmp_path / "r.yaml", f"{fake_cc.url}/")
    root = tmp_path / "root"

    # 1. Crawl A is listed: it is published; a second refresh publishes nothing and touches nothing.
    first = refresh(recipe, str(root), fake_cc)
    assert first.returncode == 0, first.stderr
    assert list(ledger(root)) == [CRAWL_A] and (root / CRAWL_A / "manifest.json").exists()
    a_files = snapshot(root / CRAWL_A)
    again = refresh(recipe, str(root), fake_cc)
    assert again.returncode == 0, again.stderr
    assert again.stdout.strip().splitlines() == [
        f"refresh: nothing new: the 1 selected crawls ({CRAWL_A}) are published in {root}"]
    assert snapshot(root / CRAWL_A) == a_files
    reference = tmp_path / "reference"  # the state after step 1, for steps 3 and 4
    shutil.copytree(root, reference)

    # 2. Crawl B is added: only B is built.
    fake_cc.add_b()
    second = refresh(recipe, str(root), fake_cc)
    assert second.returncode == 0, second.stderr
    assert list(ledger(root)) == [CRAWL_A, CRAWL_B]
    assert snapshot(root / CRAWL_A) == a_files
    b_published = dataset_bytes(root / CRAWL_B)
    entry = ledger(root)[CRAWL_B]
    assert entry["documents"] == json.loads((root / CRAWL_B / "manifest.json").read_text())["documents"] > 0

    # 3. Killed (SIGKILL) while B is being built: A intact, no B; the next refresh publishes B byte-identical.
    killed_root = tmp_path / "killed"
    shutil.copytree(reference, killed_root)
    run = subprocess.Popen([*REFRESH, "--config", str(recipe), "--output", str(killed_root), "--index-url",
                            f"{fake_cc.url}/collinfo.json", "--quiet"], stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while not list((killed_root / CRAWL_B).glob(".warcforge-staging-*")) and time.monotonic() < deadline:
        time.sleep(0.01)
    run.kill()
    run.wait(timeout=60)
    assert snapshot(killed_root / CRAWL_A) == a_files
    assert not (killed_root / CRAWL_B / "manifest.json").exists() and list(ledger(killed_root)) == [CRAWL_A]
    resumed = refresh(recipe, str(killed_root), fake_cc)
    assert resumed.returncode == 0, resumed.stderr
    assert dataset_bytes(killed_root / CRAWL_B) == b_published
    assert ledger(killed_root)[CRAWL_B]["manifest_sha256"] == entry["manifest_sha256"]

    # 4. Two refreshes started together: exactly one builds B, the other names the holder.
    raced_root = tmp_path / "raced"
    shutil.copytree(reference, raced_root)
    both = [subprocess.Popen([WARCFORGE, "refresh", "--config", str(recipe), "--output", str(raced_root),
                              "--index-url", f"{fake_cc.url}/collinfo.json", "--quiet"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    results = [(p.wait(timeout=600), p.stdout.read(), p.stderr.read()) for p in both]
    assert sorted(code for code, _, _ in results) == [0, 2], results
    built = next(out for code, out, _ in results if code == 0)
    refused = next(err for code, _, err in results if code == 2)
    assert f"refresh: published {CRAWL_B}" in built
    assert "is being written by warcforge refresh" in refused.strip().splitlines()[-1]
    assert dataset_bytes(raced_root / CRAWL_B) == b_published

    # 5. A recipe that builds crawls differently is refused, both digests named; --rebuild rebuilds.
    changed = write_refresh_recipe(tmp_path / "changed.yaml", f"{fake_cc.url}/", output={"num_shards": 2})
    refused = refresh(changed, str(root), fake_cc)
    assert refused.returncode == 2
    then, now = entry["build_sha256"], json.loads((root / CRAWL_B / "manifest.json").read_text())
    line = refused.stderr.strip().splitlines()[-1]
    assert line.startswith(f"warcforge: error: {CRAWL_A} was built by another recipe (build digest now ")
    assert f"then {then[:16]}); and 1 more ({CRAWL_B}); pass --rebuild {CRAWL_A} --rebuild {CRAWL_B}" in line
    rebuilt = refresh(changed, str(root), fake_cc, "--rebuild", "all")
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert {c: e["build_sha256"] != then for c, e in ledger(root).items()} == {CRAWL_A: True, CRAWL_B: True}
    assert len(json.loads((root / CRAWL_B / "manifest.json").read_text())["files"]["data"]) == 2
    assert now["files"] != json.loads((root / CRAWL_B / "manifest.json").read_text())["files"]


def test_selection_keys_only_pick_crawls_and_dry_run_builds_nothing(fake_cc, tmp_path):
    fake_cc.add_b()
    root = tmp_path / "root"
    newest = write_refresh_recipe(tmp_path / "newest.yaml", f"{fake_cc.url}/", refresh={"newest": 1})
    planned = refresh(newest, str(root), fake_cc, "--dry-run")
    assert planned.returncode == 0, planned.stderr
    assert planned.stdout.strip() == f"refresh: would build {CRAWL_B}: 3 files (sizes not listed) into {root}/{CRAWL_B}"
    assert not root.exists()
    assert refresh(newest, str(root), fake_cc).returncode == 0
    both = write_refresh_recipe(tmp_path / "since.yaml", f"{fake_cc.url}/")
    widened = refresh(both, str(root), fake_cc)  # a wider selection: B is not rebuilt, A is added
    assert widened.returncode == 0, widened.stderr
    assert [line.split()[2] for line in widened.stdout.splitlines() if "published" in line] == [CRAWL_A]


def test_refresh_recipes_are_checked(fake_cc, tmp_path):
    recipe = write_refresh_recipe(tmp_path / "r.yaml", f"{fake_cc.url}/", refresh={"crawls": ["CC-MAIN-2099-99"]})
    result = refresh(recipe, str(tmp_path / "root"), fake_cc)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1] == (
        "warcforge: error: crawl CC-MAIN-2099-99 is not in Common Crawl's list of crawls")
    no_refresh = tmp_path / "plain.yaml"
    no_refresh.write_text(json.dumps({"name": "x", "input": {"crawl": CRAWL_A, "base": f"{fake_cc.url}/"}}))
    result = refresh(no_refresh, str(tmp_path / "root"), fake_cc)
    assert result.returncode == 2 and "has no refresh section" in result.stderr
    build = subprocess.run([WARCFORGE, "build", "--config", str(recipe), "--output", str(tmp_path / "out")],
                           capture_output=True, text=True, timeout=120)
    assert build.returncode == 2 and "is a refresh recipe" in build.stderr


def test_refresh_into_an_s3_root(fake_cc, tmp_path, s3_server):
    s3_server.mkdir("refresh")
    recipe = write_refresh_recipe(tmp_path / "r.yaml", f"{fake_cc.url}/")
    root, env = "s3://refresh/datasets", dict(os.environ)
    assert refresh(recipe, root, fake_cc, env=env).returncode == 0
    fake_cc.add_b()
    both = [subprocess.Popen([WARCFORGE, "refresh", "--config", str(recipe), "--output", root, "--index-url",
                              f"{fake_cc.url}/collinfo.json", "--quiet"], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True, env=env) for _ in range(2)]
    results = [(p.wait(timeout=600), p.stderr.read()) for p in both]
    assert sorted(code for code, _ in results) == [0, 2], results
    s3_server.invalidate_cache()
    crawls = json.loads(s3_server.cat_file("refresh/datasets/ledger.json"))["crawls"]
    assert list(crawls) == [CRAWL_A, CRAWL_B]
    again = refresh(recipe, root, fake_cc, env=env)
    assert again.returncode == 0 and "nothing new" in again.stdout


def test_refresh_into_a_gcs_root(fake_cc, tmp_path, gcs_emulator):
    gcs_upload(gcs_emulator, "refresh", "README", b"refresh roots live here")
    env = {**os.environ, "STORAGE_EMULATOR_HOST": gcs_emulator, "GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT": "false"}
    recipe = write_refresh_recipe(tmp_path / "r.yaml", f"{fake_cc.url}/")
    root = "gs://refresh/datasets"
    first = refresh(recipe, root, fake_cc, env=env)
    assert first.returncode == 0, first.stderr
    fake_cc.add_b()
    both = [subprocess.Popen([WARCFORGE, "refresh", "--config", str(recipe), "--output", root, "--index-url",
                              f"{fake_cc.url}/collinfo.json", "--quiet"], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True, env=env) for _ in range(2)]
    results = [(p.wait(timeout=600), p.stdout.read(), p.stderr.read()) for p in both]
    assert sorted(code for code, _, _ in results) == [0, 2], results
    assert sum(f"published {CRAWL_B}" in out for _, out, _ in results) == 1
    with urllib.request.urlopen(f"{gcs_emulator}/storage/v1/b/refresh/o/datasets%2Fledger.json?alt=media",
                                timeout=10) as response:
        assert list(json.load(response)["crawls"]) == [CRAWL_A, CRAWL_B]
    again = refresh(recipe, root, fake_cc, env=env)
    assert again.returncode == 0 and "nothing new" in again.stdout


@pytest.mark.parametrize("mode", ["exact", "near"])
def test_cross_crawl_dedup_drops_what_an_earlier_crawl_published(fake_cc, tmp_path, mode):
    near = {"dedup": {"near": {"enabled": True}}} if mode == "near" else {}
    crossed = write_refresh_recipe(tmp_path / "x.yaml", f"{fake_cc.url}/",
                                   refresh={"since": CRAWL_A, "cross_crawl_dedup": mode}, **near)
    root = tmp_path / "root"
    assert refresh(crossed, str(root), fake_cc).returncode == 0
    fake_cc.add_b()
    result = refresh(crossed, str(root), fake_cc)
    assert result.returncode == 0, result.stderr
    alone = write_refresh_recipe(tmp_path / "alone.yaml", f"{fake_cc.url}/", refresh={"crawls": [CRAWL_B]}, **near)
    assert refresh(alone, str(tmp_path / "alone"), fake_cc).returncode == 0

    a_keys = {exact_dedup_key(row["text"]) for row in read_rows(root / CRAWL_A)}
    b_rows, b_alone = read_rows(root / CRAWL_B), read_rows(tmp_path / "alone" / CRAWL_B)
    seen_before = [row for row in b_alone if exact_dedup_key(row["text"]) in a_keys]
    assert seen_before and not [row for row in b_rows if exact_dedup_key(row["text"]) in a_keys]
    manifest = json.loads((root / CRAWL_B / "manifest.json").read_text())
    dropped = manifest["counts"]["dedup_cross_crawl"]["cross_crawl_duplicate"]
    assert len(b_rows) == len(b_alone) - dropped
    if mode == "exact":
        assert dropped == len(seen_before)
    a_manifest = (root / CRAWL_A / "manifest.json").read_bytes()
    assert manifest["cross_crawl"] == {"mode": mode, "against": [
        {"crawl": CRAWL_A, "manifest_sha256": hashlib.sha256(a_manifest).hexdigest()}]}
    assert manifest["files"]["index"] and json.loads(a_manifest)["files"]["index"]


def test_cross_crawl_results_never_silently_depend_on_publish_order(fake_cc, tmp_path):
    fake_cc.add_b()
    root = tmp_path / "root"
    only_b = write_refresh_recipe(tmp_path / "b.yaml", f"{fake_cc.url}/",
                                  refresh={"crawls": [CRAWL_B], "cross_crawl_dedup": "exact"})
    both = write_refresh_recipe(tmp_path / "ab.yaml", f"{fake_cc.url}/",
                                refresh={"since": CRAWL_A, "cross_crawl_dedup": "exact"})
    assert refresh(only_b, str(root), fake_cc).returncode == 0  # B first: nothing earlier to compare with
    widened = refresh(both, str(root), fake_cc)  # A is older: B's dedup would no longer hold
    assert widened.returncode == 2
    assert (f"{CRAWL_B} was deduplicated against earlier crawls, and this run builds {CRAWL_A} before it; "
            f"pass --rebuild {CRAWL_B}") in widened.stderr
    assert refresh(both, str(root), fake_cc, "--rebuild", CRAWL_B).returncode == 0
    in_one_run = tmp_path / "one-run"
    assert refresh(both, str(in_one_run), fake_cc).returncode == 0
    assert dataset_bytes(root / CRAWL_B) == dataset_bytes(in_one_run / CRAWL_B)  # as if built in order

    rebuild_a = refresh(both, str(root), fake_cc, "--rebuild", CRAWL_A)  # B was compared with A
    assert rebuild_a.returncode == 2 and f"pass --rebuild {CRAWL_B}" in rebuild_a.stderr
    shutil.rmtree(root / CRAWL_A)  # a user deletes a published crawl: it is built again, then B is stale
    again = refresh(both, str(root), fake_cc)
    assert again.returncode == 2 and CRAWL_B in again.stderr.strip().splitlines()[-1]
    assert refresh(both, str(root), fake_cc, "--rebuild", CRAWL_B).returncode == 0
    assert dataset_bytes(root / CRAWL_A) == dataset_bytes(in_one_run / CRAWL_A)


def test_what_does_not_decide_a_crawls_documents_does_not_make_it_stale(fake_cc, tmp_path):
    root = tmp_path / "root"
    lists = tmp_path / "blocked.txt"
    lists.write_text("nothing-blocked.example\n")
    url_filter = {"url": {"enabled": True, "domains": [str(lists)]}}
    first = write_refresh_recipe(tmp_path / "r.yaml", f"{fake_cc.url}/", refresh={"crawls": [CRAWL_A]},
                                 filters=url_filter)
    assert refresh(first, str(root), fake_cc).returncode == 0
    renamed = write_refresh_recipe(tmp_path / "r2.yaml", f"{fake_cc.url}/", name="renamed",
                                   refresh={"since": CRAWL_A}, filters=url_filter,
                                   read={"retry": {"max_attempts": 3}, "max_requests_per_host": 2})
    unchanged = refresh(renamed, str(root), fake_cc)
    assert unchanged.returncode == 0 and "nothing new" in unchanged.stdout
    # The manifest does not record which crawls were selected: a crawl's dataset, manifest included,
    # is the same whether it was built alone or with others.
    selected_otherwise = write_refresh_recipe(tmp_path / "r3.yaml", f"{fake_cc.url}/", refresh={"since": CRAWL_A},
                                              filters=url_filter)
    together = tmp_path / "together"
    assert refresh(selected_otherwise, str(together), fake_cc).returncode == 0
    assert dataset_bytes(root / CRAWL_A) == dataset_bytes(together / CRAWL_A)
    lists.write_text("example.com\n")  # a changed blocklist changes what is kept
    changed = refresh(renamed, str(root), fake_cc)
    assert changed.returncode == 2 and "was built by another recipe" in changed.stderr
