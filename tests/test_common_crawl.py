"""Crawl sources end to end: a fake Common Crawl tree on loopback (clean and faulty), on S3,
and on local disk, which must all give the same bytes."""

import gzip
import json
import shutil
import subprocess

import pytest

from testbed.faulty_server import FaultPlan, FaultyServer
from testbed.http_server import FileServer, self_signed_certificate
from tests.conftest import REPO, WARCFORGE, build, published_bytes, read_rows
from transforms.common.errors import MissingInputError
from transforms.reading.common_crawl import paths_file_url, sample_key, select_shards

CRAWL = "CC-MAIN-2099-01"
SEGMENT = f"crawl-data/{CRAWL}/segments/4102444800000.0/warc"
COLLINFO = [
    {"id": "CC-MAIN-2098-50", "name": "December 2098 Index", "from": "2098-12-01T00:00:00",
     "to": "2098-12-14T00:00:00"},
    {"id": "CC-MAIN-2012", "name": "Index of 2012", "from": "2012-01-01T00:00:00", "to": "2012-06-30T00:00:00"},
    {"id": CRAWL, "name": "January 2099 Index", "from": "2099-01-01T00:00:00", "to": "2099-01-14T00:00:00"},
    {"id": "CC-MAIN-2009-2010", "name": "Index of 2009 - 2010", "from": "2009-07-01T00:00:00",
     "to": "2010-09-30T00:00:00"},
]
FAST_RETRY = {"max_attempts": 10, "initial_backoff_s": 0.01, "max_backoff_s": 0.05, "min_retry_interval_s": 0.01,
              "read_timeout_s": 0.5}


@pytest.fixture(scope="module")
def crawl_tree(sample_dir, tmp_path_factory):
    """A Common Crawl layout: collinfo.json, a paths file, and the sample shards as the crawl's WARCs."""
    root = tmp_path_factory.mktemp("commoncrawl")
    (root / SEGMENT).mkdir(parents=True)
    names = []
    for i, shard in enumerate(sorted(sample_dir.glob("*.warc.gz"))):
        name = f"{SEGMENT}/{CRAWL}-20990101000000-{i:05d}.warc.gz"
        shutil.copy(shard, root / name)
        names.append(name)
    (root / f"crawl-data/{CRAWL}/warc.paths.gz").write_bytes(gzip.compress("\n".join(names).encode() + b"\n"))
    (root / "collinfo.json").write_text(json.dumps(COLLINFO))
    return root, names


def crawl_recipe(tmp_path, base: str, **selection) -> str:
    recipe = {"name": "cc", "input": {"crawl": CRAWL, "base": base, **selection},
              "read": {"retry": FAST_RETRY}, "output": {"num_shards": 3}}
    path = tmp_path / "crawl.yaml"
    path.write_text(json.dumps(recipe))
    return path


def published(out) -> dict:
    """Files that must match across mirrors: not the ones naming the mirror (the manifest's recipe names its
    base; stats.json and the card name the manifest) or the run's time."""
    return published_bytes(out, ("run_info.json", "manifest.json", "inputs.json", "stats.json", "README.md"))


@pytest.fixture(scope="module")
def local_crawl_build(crawl_tree, tmp_path_factory):
    root, _ = crawl_tree
    base = tmp_path_factory.mktemp("local-crawl")
    manifest = build(crawl_recipe(base, str(root)), base / "out")
    return base / "out", manifest


def test_a_crawl_resolves_through_its_paths_file(local_crawl_build, crawl_tree):
    out, manifest = local_crawl_build
    _, names = crawl_tree
    assert [i["warc_path"] for i in manifest["inputs"]] == names
    assert all(i["size"] is None for i in manifest["inputs"])
    read = json.loads((out / "inputs.json").read_text())  # where this run read them: the manifest does not say
    assert [(i["warc_path"], i["url"]) for i in read] == [(n, f"{crawl_tree[0]}/{n}") for n in names]
    assert "input_root" not in manifest
    assert {r["warc_path"] for r in read_rows(out)} == set(names)  # crawl-relative: the same on every mirror


def test_over_http_the_output_is_byte_identical(local_crawl_build, crawl_tree, tmp_path):
    root, _ = crawl_tree
    with FileServer(root) as server:
        build(crawl_recipe(tmp_path, f"{server.url}/"), tmp_path / "out")
    assert published(tmp_path / "out") == published(local_crawl_build[0])


@pytest.mark.parametrize("refuse_ranges", [False, True])
def test_over_a_faulty_server_the_output_is_byte_identical(local_crawl_build, crawl_tree, tmp_path, refuse_ranges):
    root, _ = crawl_tree
    plan = FaultPlan(seed=20990101, faults_per_file=3, refuse_ranges=refuse_ranges, stall_s=1.0,
                     fault_paths="/segments/")
    with FaultyServer(root, plan) as server:
        manifest = build(crawl_recipe(tmp_path, f"{server.url}/"), tmp_path / "out")
    assert published(tmp_path / "out") == published(local_crawl_build[0])
    assert manifest["failed_shards"] == []
    faults = [what for _, _, what in plan.log if what != "ok"]
    assert len(faults) == 12 and {"503", "reset", "stall"} <= set(faults)


def test_a_shard_that_keeps_failing_fails_the_run_by_default(crawl_tree, tmp_path):
    root, names = crawl_tree
    plan = FaultPlan(seed=1, kinds=("503",), faults_per_file=1000, fault_paths="-00002.warc.gz")
    with FaultyServer(root, plan) as server:
        result = subprocess.run([WARCFORGE, "build", "--config", str(crawl_recipe(tmp_path, f"{server.url}/")),
                                 "--output", str(tmp_path / "out"), "--quiet"],
                                capture_output=True, text=True, cwd=REPO, timeout=300)
    assert result.returncode == 1
    assert f"{names[2].rsplit('/', 1)[1]}: 10 attempts failed; last: HTTP 503 Slow Down (at byte 0)" in result.stderr
    assert "nothing was published" in result.stderr
    assert not (tmp_path / "out" / "manifest.json").exists()


def test_a_shard_that_keeps_failing_can_be_recorded_and_skipped(crawl_tree, tmp_path):
    root, names = crawl_tree
    recipe = json.loads(crawl_recipe(tmp_path, "").read_text())
    plan = FaultPlan(seed=1, kinds=("503",), faults_per_file=1000, fault_paths="-00002.warc.gz")
    with FaultyServer(root, plan) as server:
        recipe["input"]["base"] = f"{server.url}/"
        recipe["read"]["on_shard_failure"] = "skip"
        (tmp_path / "skip.yaml").write_text(json.dumps(recipe))
        result = subprocess.run([WARCFORGE, "build", "--config", str(tmp_path / "skip.yaml"),
                                 "--output", str(tmp_path / "out"), "--quiet"],
                                capture_output=True, text=True, cwd=REPO, timeout=300)
    assert result.returncode == 3, result.stderr
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    (failed,) = manifest["failed_shards"]
    assert (failed["warc_path"], failed["offset"], failed["records_read"]) == (names[2], 0, 0)
    assert failed["reason"] == "10 attempts failed; last: HTTP 503 Slow Down"
    assert manifest["counts"]["read"]["shard_failed"] == 1 and manifest["counts"]["read"]["shards"] == 4
    assert {r["warc_path"] for r in read_rows(tmp_path / "out")} == set(names) - {names[2]}
    assert "FAILED" in result.stdout and "1 shards failed and were skipped" in result.stderr


def test_selection_first_sample_and_files(crawl_tree, tmp_path):
    _, names = crawl_tree
    assert select_shards(names, first=2) == names[:2]
    sample = select_shards(names, sample=2, seed=7)
    assert len(sample) == 2 and sample == [n for n in names if n in sample]  # kept in the paths file's order
    assert set(sample) == set(sorted(names, key=lambda n: sample_key(7, n))[:2])
    assert set(select_shards(list(reversed(names)), sample=2, seed=7)) == set(sample)  # order of the list is moot
    assert {tuple(select_shards(names, sample=2, seed=seed)) for seed in range(10)} != {tuple(sample)}
    assert select_shards(names, files=[names[3], names[1]]) == [names[3], names[1]]
    with pytest.raises(MissingInputError, match="not in the crawl's paths file: crawl-data/nope.warc.gz"):
        select_shards(names, files=["crawl-data/nope.warc.gz"])


def test_first_n_through_the_recipe(crawl_tree, tmp_path):
    root, names = crawl_tree
    manifest = build(crawl_recipe(tmp_path, str(root), first=1), tmp_path / "out")
    assert [i["warc_path"] for i in manifest["inputs"]] == names[:1]


def test_a_missing_crawl_is_named(crawl_tree, tmp_path):
    root, _ = crawl_tree
    recipe = json.loads(crawl_recipe(tmp_path, str(root)).read_text())
    recipe["input"]["crawl"] = "CC-MAIN-2099-02"
    (tmp_path / "r.yaml").write_text(json.dumps(recipe))
    with pytest.raises(MissingInputError) as caught:
        build(tmp_path / "r.yaml", tmp_path / "out")
    assert str(caught.value) == f"cannot fetch {paths_file_url(str(root), 'CC-MAIN-2099-02', 'warc')}: not found"


def test_s3_base(crawl_tree, tmp_path, local_crawl_build, s3_server):
    root, _ = crawl_tree
    s3_server.mkdir("commoncrawl-mirror")
    s3_server.put(str(root / "crawl-data"), "commoncrawl-mirror/crawl-data", recursive=True)
    build(crawl_recipe(tmp_path, "s3://commoncrawl-mirror/"), tmp_path / "out")
    assert published(tmp_path / "out") == published(local_crawl_build[0])


def test_wet_files_of_a_crawl(shared_warc, tmp_path):
    root = tmp_path / "cc"
    wet = f"crawl-data/{CRAWL}/segments/4102444800000.0/wet/{CRAWL}-00000.warc.wet.gz"
    (root / wet).parent.mkdir(parents=True)
    shutil.copy(shared_warc / "commoncrawl_whirlwind-python__whirlwind.warc.wet.gz", root / wet)
    (root / f"crawl-data/{CRAWL}/wet.paths.gz").write_bytes(gzip.compress(wet.encode()))
    manifest = build(crawl_recipe(tmp_path, str(root), kind="wet"), tmp_path / "out")
    (row,) = read_rows(tmp_path / "out")
    assert row["record_type"] == "conversion" and row["warc_path"] == wet
    assert manifest["recipe"]["input"]["kind"] == "wet"


def test_crawls_command_lists_newest_first(crawl_tree):
    root, _ = crawl_tree
    with FileServer(root) as server:
        result = subprocess.run([WARCFORGE, "crawls", "--index-url", f"{server.url}/collinfo.json"],
                                capture_output=True, text=True, timeout=120)
        as_json = subprocess.run([WARCFORGE, "crawls", "--index-url", f"{server.url}/collinfo.json", "--json",
                                  "--limit", "1"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert [line.split()[0] for line in result.stdout.splitlines()] == [
        CRAWL, "CC-MAIN-2098-50", "CC-MAIN-2012", "CC-MAIN-2009-2010"]
    assert json.loads(as_json.stdout)["id"] == CRAWL



def test_over_https_with_a_trusted_certificate(local_crawl_build, crawl_tree, tmp_path, monkeypatch):
    root, _ = crawl_tree
    cert, key = self_signed_certificate(tmp_path)
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))  # what a client trusts, as for a private mirror
    with FileServer(root, tls=(cert, key)) as server:
        assert server.url.startswith("https://")
        build(crawl_recipe(tmp_path, f"{server.url}/"), tmp_path / "out")
    assert published(tmp_path / "out") == published(local_crawl_build[0])
