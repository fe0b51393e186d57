"""warcforge verify: a fresh build passes; a damaged file, a missing or extra file, a hand-edited manifest
are each named; a directory without a manifest is exit 2; datasets on an object store verify the same."""

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from beam_jobs import verify
from tests.conftest import REPO, WARCFORGE, build, write_recipe

OK_TAIL = "checked sha256, rows and schema"


@pytest.fixture(scope="module")
def built(sample_dir, tmp_path_factory) -> Path:
    """One build of the sample, with a filter and URL dedup, so rejected/ and more stages are in the funnel."""
    base = tmp_path_factory.mktemp("verify")
    recipe = write_recipe(base / "r.yaml", [str(sample_dir / "*.warc.gz")],
                          filters={"gopher_quality": {"enabled": True}, "rejected_sample_rate": 0.5},
                          dedup={"url": "newest", "exact": True}, output={"num_shards": 2})
    build(recipe, base / "out")
    return base / "out"


@pytest.fixture()
def dataset(built, tmp_path) -> Path:
    """A copy of the build that a test may damage."""
    return Path(shutil.copytree(built, tmp_path / "ds"))


def manifest_of(directory: Path) -> dict:
    return json.loads((directory / "manifest.json").read_text())


def verified(capsys, directory: str | Path) -> tuple[int, list[str], str]:
    code = verify.main([str(directory)])
    out, err = capsys.readouterr()
    return code, out.splitlines(), err


def flip_a_byte(data: bytes) -> bytes:
    middle = len(data) // 2  # in a column chunk: the footer still reads, the content is wrong
    return data[:middle] + bytes([data[middle] ^ 0x01]) + data[middle + 1:]


def test_a_fresh_build_verifies_from_the_command_line(built):
    manifest = manifest_of(built)
    assert manifest["files"]["rejected"] and "filter" in manifest["counts"] and "dedup_url" in manifest["counts"]
    result = subprocess.run([WARCFORGE, "verify", str(built)], capture_output=True, text=True, cwd=REPO, timeout=60)
    files = sum(len(section) for section in manifest["files"].values())
    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout == f"verify: {built}: ok, {files} files, {manifest['documents']} documents, {OK_TAIL}\n"


def test_a_flipped_byte_is_named(capsys, dataset):
    entry = manifest_of(dataset)["files"]["data"][1]
    target = dataset / entry["path"]
    target.write_bytes(flip_a_byte(target.read_bytes()))
    code, lines, _ = verified(capsys, dataset)
    assert code == 1
    assert len(lines) == 2 and lines[0].startswith(f"{entry['path']}: sha256 is ")
    assert lines[0].endswith(f", the manifest says {entry['sha256']}")
    assert lines[1] == f"verify: {dataset}: 1 problem"


def test_a_removed_file_is_named(capsys, dataset):
    entry = manifest_of(dataset)["files"]["dead_letter"][0]
    (dataset / entry["path"]).unlink()
    code, lines, _ = verified(capsys, dataset)
    assert code == 1 and lines == [f"{entry['path']}: listed in the manifest, but missing",
                                   f"verify: {dataset}: 1 problem"]


def test_an_extra_file_in_a_dataset_folder_is_named(capsys, dataset):
    (dataset / "data" / "part-00009-of-00010-000000000000.parquet").write_bytes(b"PAR1")
    (dataset / "rejected" / "notes").mkdir()
    (dataset / "rejected" / "notes" / "todo.txt").write_text("look at these\n")
    (dataset / "NOTES.md").write_text("beside the dataset: not its business\n")
    code, lines, _ = verified(capsys, dataset)
    assert code == 1 and lines == ["data/part-00009-of-00010-000000000000.parquet: not listed in the manifest",
                                   "rejected/notes/todo.txt: not listed in the manifest",
                                   f"verify: {dataset}: 2 problems"]


def _documents(manifest: dict) -> str:
    manifest["documents"] += 1
    documents = manifest["documents"]
    return f"manifest.json: documents is {documents}, but there are {documents - 1} rows in data/"


def _rows(manifest: dict) -> str:
    entry = manifest["files"]["data"][0]
    entry["rows"] += 1
    return f"{entry['path']}: {entry['rows'] - 1} rows, the manifest says {entry['rows']}"


def _recipe(manifest: dict) -> str:
    manifest["recipe"]["output"]["num_shards"] = 8
    return f"manifest.json: recipe_sha256 is {manifest['recipe_sha256']}, the recorded recipe's is "


def _funnel(manifest: dict) -> str:
    manifest["counts"]["dedup_url"]["out"] -= 1
    out = manifest["counts"]["dedup_url"]["out"]
    return f"manifest.json: counts.dedup_url.out is {out}, counts.dedup_exact.in is {out + 1}"


def _drops(manifest: dict) -> str:
    manifest["counts"]["read"]["not_html"] += 1
    read = manifest["counts"]["read"]
    return f"manifest.json: counts.read: in {read['in']} - out {read['out']} is not the "


@pytest.mark.parametrize("edit", [_documents, _rows, _recipe, _funnel, _drops])
def test_a_manifest_edited_by_hand_is_named(capsys, dataset, edit):
    manifest = manifest_of(dataset)
    expected = edit(manifest)
    (dataset / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    code, lines, _ = verified(capsys, dataset)
    assert code == 1
    assert any(line.startswith(expected) for line in lines), lines
    # stats.json names the manifest it was written with: any edit shows there too.
    assert any(line.startswith("stats.json: manifest_sha256 is ") for line in lines), lines
    assert lines[-1].startswith(f"verify: {dataset}: ") and lines[-1].endswith(" problems")


def test_a_manifest_that_is_not_warcforges_is_one_problem(capsys, dataset):
    (dataset / "manifest.json").write_text('{"files": []}\n')
    code, lines, _ = verified(capsys, dataset)
    assert code == 1 and lines == ["manifest.json: not a warcforge manifest (no format 'warcforge-manifest/1' "
                                   "with files)", f"verify: {dataset}: 1 problem"]


def test_a_directory_without_a_manifest_is_exit_2_with_one_line(tmp_path):
    (tmp_path / "data").mkdir()
    result = subprocess.run([WARCFORGE, "verify", str(tmp_path)], capture_output=True, text=True, timeout=60)
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == f"warcforge: error: {tmp_path}: manifest.json not found: not a warcforge dataset\n"


def test_credentials_in_the_url_are_never_printed(capsys):
    code, lines, err = verified(capsys, "memory://reader:hunter2@nowhere/ds")
    assert (code, lines) == (2, [])
    assert err == "warcforge: error: memory://<redacted>@nowhere/ds: manifest.json not found: not a warcforge dataset\n"


def test_a_dataset_on_s3_verifies_and_its_damage_is_named(capsys, s3_server, built):
    s3_server.mkdir("datasets")
    s3_server.put(str(built), "datasets/v1", recursive=True)
    url = "s3://datasets/v1"
    code, lines, _ = verified(capsys, url)
    assert code == 0 and lines[-1].startswith(f"verify: {url}: ok, ") and lines[-1].endswith(OK_TAIL)

    entry = manifest_of(built)["files"]["data"][0]
    s3_server.pipe_file(f"datasets/v1/{entry['path']}", flip_a_byte((built / entry["path"]).read_bytes()))
    s3_server.pipe_file("datasets/v1/index/stray.parquet", b"PAR1")
    code, lines, _ = verified(capsys, url)
    assert code == 1
    assert lines[0].startswith(f"{entry['path']}: sha256 is ")
    assert lines[1:] == ["index/stray.parquet: not listed in the manifest", f"verify: {url}: 2 problems"]
