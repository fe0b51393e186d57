"""--input takes local paths, globs and fsspec URLs; the documents do not depend on where bytes came from."""

import json

import fsspec
import pytest

from testbed.http_server import FileServer
from tests.conftest import build, read_rows, write_recipe
from transforms.common.errors import MissingInputError, NotAnArchiveError, RecipeError
from transforms.reading.sources import resolve_paths

SHARD = "sample-00001.warc.gz"


def documents(out) -> list[tuple]:
    return sorted((r["id"], r["text"], r["warc_offset"], r["warc_length"]) for r in read_rows(out))


@pytest.fixture(scope="module")
def local_documents(sample_dir, tmp_path_factory):
    base = tmp_path_factory.mktemp("local")
    build(write_recipe(base / "r.yaml", [str(sample_dir / SHARD)]), base / "out")
    return documents(base / "out")


def test_file_url(sample_dir, tmp_path, local_documents):
    recipe = write_recipe(tmp_path / "r.yaml", ["unused.warc.gz"])
    manifest = build(recipe, tmp_path / "out", "--input", f"file://{sample_dir / SHARD}")
    assert documents(tmp_path / "out") == local_documents
    assert manifest["input_root"] == str(sample_dir)
    assert manifest["inputs"][0]["warc_path"] == SHARD
    assert json.loads((tmp_path / "out" / "inputs.json").read_text())[0]["url"] == str(sample_dir / SHARD)


def test_memory_url(sample_dir, tmp_path, local_documents):
    fs = fsspec.filesystem("memory")
    fs.pipe("/warcforge-test/shard.warc.gz", (sample_dir / SHARD).read_bytes())
    try:
        recipe = write_recipe(tmp_path / "r.yaml", ["memory://warcforge-test/*.warc.gz"])
        manifest = build(recipe, tmp_path / "out")
    finally:
        fs.rm("/warcforge-test", recursive=True)
    assert manifest["inputs"] == [{"warc_path": "shard.warc.gz", "size": (sample_dir / SHARD).stat().st_size}]
    assert manifest["input_root"] == "memory:///warcforge-test"
    assert documents(tmp_path / "out") == local_documents
    assert {r["warc_path"] for r in read_rows(tmp_path / "out")} == {"shard.warc.gz"}


def test_http_url_from_a_loopback_server(sample_dir, tmp_path, local_documents):
    with FileServer(sample_dir) as server:
        url = f"{server.url}/{SHARD}"
        recipe = write_recipe(tmp_path / "r.yaml", [url])
        manifest = build(recipe, tmp_path / "out")
        with pytest.raises(MissingInputError, match="input file not found: .*/no-such.warc.gz"):
            resolve_paths([f"{server.url}/no-such.warc.gz"])
    assert (manifest["input_root"], manifest["inputs"][0]["warc_path"]) == (server.url, SHARD)
    assert documents(tmp_path / "out") == local_documents


def test_duplicate_inputs_are_read_once_and_sorted(sample_dir):
    files = resolve_paths([str(sample_dir / "sample-0000[12].warc.gz"), str(sample_dir / "sample-00001.warc.gz")])
    assert [f.url for f in files] == [str(sample_dir / f"sample-0000{i}.warc.gz") for i in (1, 2)]


def test_directory_input_asks_for_a_glob(sample_dir):
    with pytest.raises(MissingInputError) as caught:
        resolve_paths([str(sample_dir)])
    assert str(caught.value) == (
        f"input '{sample_dir}' is a directory; name its files or a glob such as {sample_dir}/*.warc.gz")


def test_an_http_glob_on_a_plain_directory_listing_reads_every_file(sample_dir, tmp_path):
    # Python's http.server lists directories as HTML without sizes: fsspec reports size 0 for them.
    with FileServer(sample_dir) as server:
        manifest = build(write_recipe(tmp_path / "r.yaml", [f"{server.url}/sample-0000[12].warc.gz"]), tmp_path / "out")
    assert [i["size"] for i in manifest["inputs"]] == [None, None]
    local = build(write_recipe(tmp_path / "l.yaml", [str(sample_dir / "sample-0000[12].warc.gz")]), tmp_path / "local")
    assert manifest["documents"] == local["documents"] > 0


def test_an_unreachable_input_url_says_why_not_not_found(tmp_path):
    from testbed.local_services import free_port
    with pytest.raises(MissingInputError, match=r"connection refused by 127\.0\.0\.1"):
        resolve_paths([f"http://127.0.0.1:{free_port()}/shard.warc.gz"])
    with pytest.raises(MissingInputError, match="cannot resolve host warcforge-test.invalid"):
        resolve_paths(["http://warcforge-test.invalid/shard.warc.gz"])


@pytest.mark.parametrize(("name", "content"), [
    ("empty.warc.gz", b""), ("noise.warc.gz", bytes(range(256)) * 8), ("notes.txt", b"just some text\n"),
    ("README.md", b"# a readme a glob matched\n")])
def test_a_local_input_that_is_not_an_archive_is_refused_before_work(tmp_path, name, content):
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / name).write_bytes(content)
    with pytest.raises(NotAnArchiveError, match=f"input {tmp_path / 'in' / name} .*is not a WARC, WET or ARC file"):
        build(write_recipe(tmp_path / "r.yaml", [str(tmp_path / "in" / "*")]), tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_a_remote_input_with_no_record_is_a_failed_input(tmp_path, sample_dir):
    (tmp_path / "srv").mkdir()
    (tmp_path / "srv" / "empty.warc.gz").write_bytes(b"")
    (tmp_path / "srv" / SHARD).write_bytes((sample_dir / SHARD).read_bytes())
    recipe = write_recipe(tmp_path / "r.yaml", ["unused"], read={"on_shard_failure": "skip"})
    with FileServer(tmp_path / "srv") as server:
        manifest = build(recipe, tmp_path / "out", "--input", f"{server.url}/empty.warc.gz",
                         "--input", f"{server.url}/{SHARD}")
        assert [f["warc_path"] for f in manifest["failed_shards"]] == ["empty.warc.gz"]
        assert [f["url"] for f in manifest["failed_shards"]] == [f"{server.url}/empty.warc.gz"]
        assert "no record could be read" in manifest["failed_shards"][0]["reason"]
        with pytest.raises(Exception, match="no record could be read"):
            build(write_recipe(tmp_path / "f.yaml", [f"{server.url}/empty.warc.gz"]), tmp_path / "out2")
    assert manifest["documents"] > 0


def _data_files(out) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted((out / "data").glob("*.parquet"))}


def test_the_same_files_elsewhere_give_the_same_bytes(sample_dir, tmp_path):
    # Documents record warc_path relative to the input root: another folder, or the same files behind
    # a web server, give byte-identical Parquet; only the manifest's input_root tells them apart.
    deep = tmp_path / "one" / "two"
    deep.mkdir(parents=True)
    names = ["sample-00001.warc.gz", "sample-00002.warc.gz"]
    for name in names:
        (deep / name).write_bytes((sample_dir / name).read_bytes())
    recipe = write_recipe(tmp_path / "r.yaml", ["unused.warc.gz"])
    here = build(recipe, tmp_path / "here", "--input", str(sample_dir / "sample-0000[12].warc.gz"))
    there = build(recipe, tmp_path / "there", "--input", str(deep / "*.warc.gz"))
    with FileServer(sample_dir) as server:
        served = build(recipe, tmp_path / "served", "--input", f"{server.url}/sample-00001.warc.gz",
                       "--input", f"{server.url}/sample-00002.warc.gz")
    assert _data_files(tmp_path / "here") == _data_files(tmp_path / "there") == _data_files(tmp_path / "served")
    assert here["inputs"] == there["inputs"] == served["inputs"]
    assert [i["warc_path"] for i in here["inputs"]] == names
    assert (here["input_root"], there["input_root"]) == (str(sample_dir), str(deep))


def test_a_declared_root_names_warc_paths_and_must_hold_every_input(sample_dir, tmp_path):
    recipe = write_recipe(tmp_path / "r.yaml", ["unused.warc.gz"])
    manifest = build(recipe, tmp_path / "out", "--input", str(sample_dir / SHARD),
                     "--input-root", str(sample_dir.parent))
    assert manifest["inputs"][0]["warc_path"] == f"{sample_dir.name}/{SHARD}"
    assert {r["warc_path"] for r in read_rows(tmp_path / "out")} == {f"{sample_dir.name}/{SHARD}"}
    with pytest.raises(RecipeError, match=f"input {sample_dir / SHARD} does not lie under input.root {tmp_path}"):
        resolve_paths([str(sample_dir / SHARD)], str(tmp_path))


def test_a_name_a_url_must_encode_is_recorded_as_the_file_is_named(sample_dir, tmp_path):
    # Behind a server "a b+c.warc.gz" is "a%20b%2Bc.warc.gz": warc_path records the file's own name either way.
    served = tmp_path / "served"
    served.mkdir()
    (served / "a b+c.warc.gz").write_bytes((sample_dir / SHARD).read_bytes())
    recipe = write_recipe(tmp_path / "r.yaml", ["unused.warc.gz"])
    on_disk = build(recipe, tmp_path / "disk", "--input", str(served / "*.warc.gz"))
    with FileServer(served) as server:
        over_http = build(recipe, tmp_path / "http", "--input", f"{server.url}/*.warc.gz")
    assert [i["warc_path"] for i in on_disk["inputs"]] == [i["warc_path"] for i in over_http["inputs"]] == [
        "a b+c.warc.gz"]  # (a server's directory listing has no sizes)
    assert _data_files(tmp_path / "disk") == _data_files(tmp_path / "http")
