"""verify --rebuild: a few input files built again must be found in the dataset, byte for byte.

The recipe dedups across files (exact, URL and near), so rebuilding a file alone produces documents
whose survivors lie in other files: those must be accounted for, and nothing else may differ.
"""

import hashlib
import json
import shutil

import pyarrow.parquet as pq
import pytest

from beam_jobs.verify import main as verify_main
from beam_jobs.verify_rebuild import choose_inputs, rebuild
from tests.conftest import build, write_recipe
from transforms.writing.publish import dumps_json
from transforms.writing.shards import shard_file_name

SEED = 5


@pytest.fixture(scope="module")
def deduped(sample_dir, tmp_path_factory):
    work = tmp_path_factory.mktemp("rebuild")
    recipe = write_recipe(work / "r.yaml", [str(sample_dir / "*.warc.gz")],
                          dedup={"exact": True, "url": "newest", "near": {"enabled": True}})
    manifest = build(recipe, work / "out")
    return work / "out", manifest


def test_rebuilding_two_files_finds_every_document(deduped, capsys):
    out, manifest = deduped
    assert verify_main([str(out), "--rebuild", "2", "--seed", str(SEED)]) == 0
    chosen = choose_inputs([i["warc_path"] for i in manifest["inputs"]], 2, SEED)
    assert f"rebuilt {', '.join(chosen)}: every document published as built" in capsys.readouterr().out


def test_the_check_has_cross_file_duplicates_to_account_for(deduped, tmp_path):
    out, manifest = deduped
    chosen = choose_inputs([i["warc_path"] for i in manifest["inputs"]], 2, SEED)
    rebuilt = rebuild(str(out), manifest, chosen, None, str(tmp_path / "again"), [])
    published = {r["id"] for f in manifest["files"]["data"] for r in pq.read_table(out / f["path"]).to_pylist()
                 if r["warc_path"] in chosen}
    # built alone, the files keep documents whose survivors are in the other files: the check accounts for them
    assert published < {r["id"] for r in rebuilt}


def _forge(out, change) -> str:
    """Change one published document in a data file and make the manifest and stats.json agree, as a careful
    forger would: the plain checks then pass, only a rebuild can tell. Returns the document's id."""
    manifest = json.loads((out / "manifest.json").read_text())
    chosen = set(choose_inputs([i["warc_path"] for i in manifest["inputs"]], 2, SEED))
    for entry in manifest["files"]["data"]:
        table = pq.read_table(out / entry["path"])
        rows = table.to_pylist()
        index = next((i for i, r in enumerate(rows) if r["warc_path"] in chosen), None)
        if index is not None:
            break
    change(rows[index])
    (out / entry["path"]).unlink()
    pq.write_table(type(table).from_pylist(rows, schema=table.schema), out / "forged.parquet", compression="zstd")
    data = (out / "forged.parquet").read_bytes()
    (out / "forged.parquet").unlink()
    sha256 = hashlib.sha256(data).hexdigest()
    part, of = (int(x) for x in entry["path"].split("part-")[1].split("-")[0:3:2])
    entry.update(path=shard_file_name("data", part, of, sha256), bytes=len(data), sha256=sha256)
    (out / entry["path"]).write_bytes(data)
    manifest_bytes = dumps_json(manifest)
    (out / "manifest.json").write_bytes(manifest_bytes)
    stats = json.loads((out / "stats.json").read_text())
    stats["manifest_sha256"] = hashlib.sha256(manifest_bytes).hexdigest()
    (out / "stats.json").write_bytes(dumps_json(stats))
    return rows[index]["id"]


@pytest.mark.parametrize(("column", "change"), [
    ("text", lambda row: row.update(text=row["text"] + " An added sentence.")),
    ("url", lambda row: row.update(url="http://example.com/elsewhere")),
])
def test_a_document_altered_consistently_is_caught_only_by_the_rebuild(deduped, tmp_path, capsys, column, change):
    out = tmp_path / "forged"
    shutil.copytree(deduped[0], out)
    forged = _forge(out, change)
    assert verify_main([str(out)]) == 0  # manifest, sha256s and counts all agree
    capsys.readouterr()
    assert verify_main([str(out), "--rebuild", "2", "--seed", str(SEED)]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert any(line.startswith(f"document {forged} from ") and f"column {column} differs" in line for line in lines)
    assert lines[-1].endswith("problem") or lines[-1].endswith("problems")


def test_a_published_lock_must_be_the_one_the_manifest_names(sample_dir, tmp_path, capsys):
    recipe = write_recipe(tmp_path / "r.yaml", [str(sample_dir / "sample-00001.warc.gz")])
    build(recipe, tmp_path / "pointers", "--pointers")
    lock = tmp_path / "pointers" / "warcforge.lock"
    lock.write_bytes(lock.read_bytes().replace(b'"sample-00001.warc.gz"', b'"sample-00002.warc.gz"'))
    assert verify_main([str(tmp_path / "pointers")]) == 1
    assert "warcforge.lock: sha256 is " in capsys.readouterr().out
    (tmp_path / "pointers" / "stats.json").unlink()
    lock.unlink()
    assert verify_main([str(tmp_path / "pointers")]) == 1
    out = capsys.readouterr().out
    assert "stats.json: missing" in out and "warcforge.lock: missing" in out


def test_a_pointer_dataset_is_not_rebuilt_but_materialized(sample_dir, tmp_path, capsys):
    recipe = write_recipe(tmp_path / "r.yaml", [str(sample_dir / "sample-00001.warc.gz")])
    build(recipe, tmp_path / "pointers", "--pointers")
    assert verify_main([str(tmp_path / "pointers"), "--rebuild", "1"]) == 2
    assert "'warcforge materialize' it" in capsys.readouterr().err
