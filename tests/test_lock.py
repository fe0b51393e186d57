"""`warcforge lock` and `warcforge build --lock`.

Checks that a lock records what decides a build's bytes (the recipe with its defaults and digest,
each input's warc_path, size, server identity and sha256, a crawl's paths file, the package
versions), that a locked build publishes the same data as an unlocked one plus the lock and its
digest, that it is refused before any record is read (exit 2, one line per difference, nothing
written) when a package, URL list, paths file or input differs, that ``--allow-drift`` builds and
lists the differences in the manifest, that ``--input-root`` rebuilds from a copy into a
byte-identical manifest, and the one-line errors for a bad lock or bad flags.
"""

import gzip
import hashlib
import json
import shutil
import subprocess
from pathlib import Path
from types import SimpleNamespace

import pytest

from beam_jobs.build import main as build_main
from beam_jobs.build import run_build
from beam_jobs.lock import LOCK_FORMAT, LockDriftError, run_lock
from beam_jobs.run_report import package_versions
from testbed.faulty_server import FaultPlan, FaultyServer
from tests.conftest import REPO, WARCFORGE, build, published_bytes, write_recipe
from tests.test_common_crawl import CRAWL, FAST_RETRY, SEGMENT, crawl_recipe
from transforms.reading.common_crawl import paths_file_url

INSTALLED_PYARROW = package_versions()["pyarrow"]
# What a locked build publishes beside the data that an unlocked build does not, or publishes otherwise.
LOCK_SIDE_FILES = ("run_info.json", "manifest.json", "stats.json", "README.md", "warcforge.lock")


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def copy_sample(sample_dir: Path, folder: Path) -> Path:
    """The sample's WARC files copied into ``folder``, which a test may then change."""
    folder.mkdir(parents=True)
    for shard in sorted(sample_dir.glob("*.warc.gz")):
        shutil.copy(shard, folder / shard.name)
    return folder


def make_lock(recipe: Path, lock: Path, *extra: str) -> Path:
    run_lock(["--config", str(recipe), "-o", str(lock), *extra])
    return lock


def build_locked(lock: Path, output: Path, *extra: str) -> dict:
    return run_build(["--lock", str(lock), "--output", str(output), "--quiet", *extra])


def edit_lock(lock: Path, edit) -> Path:
    """The lock with ``edit`` (a function changing its JSON in place) applied, as a person would edit it."""
    data = json.loads(lock.read_bytes())
    edit(data)
    lock.write_text(json.dumps(data, indent=2))
    return lock


def fake_pyarrow(data: dict) -> None:
    data["versions"]["pyarrow"] = "0.0.1"


def etag(path: Path) -> str:
    """The ETag FaultyServer sends: the MD5 of the bytes, quoted."""
    return f'"{hashlib.md5(path.read_bytes()).hexdigest()}"'


def flip_middle_byte(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))


def drift_text(lock: Path, lines: list[str]) -> str:
    count = f"{len(lines)} difference{'s' if len(lines) != 1 else ''}"
    return (f"this machine differs from lock {lock} ({count}); nothing was read (--allow-drift builds anyway and "
            "records them in the manifest):\n" + "\n".join(f"  {line}" for line in lines))


def refused(lock: Path, output: Path, *extra: str) -> str:
    """Build the lock expecting a refusal; returns its message, after checking nothing was written."""
    with pytest.raises(LockDriftError) as caught:
        build_locked(lock, output, *extra)
    assert not output.exists()
    return str(caught.value)


@pytest.fixture(scope="module")
def locked(sample_dir, tmp_path_factory):
    """The sample locked with --hash-inputs, built from its lock and without it; nothing here is changed."""
    base = tmp_path_factory.mktemp("locked")
    warcs = copy_sample(sample_dir, base / "warcs")
    recipe = write_recipe(base / "r.yaml", [str(warcs / "*.warc.gz")])
    lock = make_lock(recipe, base / "sample.lock", "--hash-inputs")
    unlocked = build(recipe, base / "unlocked", "--quiet")
    manifest = build_locked(lock, base / "out")
    return SimpleNamespace(base=base, warcs=warcs, recipe=recipe, lock=lock, unlocked=unlocked,
                           unlocked_out=base / "unlocked", manifest=manifest, out=base / "out")


def test_a_lock_records_the_recipe_inputs_and_versions(locked):
    data = json.loads(locked.lock.read_bytes())
    assert data["format"] == LOCK_FORMAT == "warcforge-lock/1"
    assert data["recipe"] == locked.unlocked["recipe"]  # defaults filled in, as the manifest records it
    canonical = json.dumps(data["recipe"], sort_keys=True, separators=(",", ":")).encode()
    assert data["recipe_sha256"] == locked.unlocked["recipe_sha256"] == hashlib.sha256(canonical).hexdigest()
    assert data["inputs"] == [{"warc_path": p.name, "size": p.stat().st_size, "sha256": sha256(p)}
                              for p in sorted(locked.warcs.glob("*.warc.gz"))]  # local files: no server identity
    assert data["versions"] == package_versions()
    assert data["source"] == {"root": str(locked.warcs)}
    assert data["url_lists"] == {}
    assert data["recipe_folder"] == str(locked.base)


def test_a_lock_made_with_input_flags_records_them_as_a_build_does(locked, tmp_path):
    flags = ["--input", str(locked.warcs / "sample-0000[01].warc.gz"), "--input-root", str(locked.base)]
    data = json.loads(make_lock(locked.recipe, tmp_path / "l.json", *flags).read_bytes())
    manifest = build(locked.recipe, tmp_path / "out", "--quiet", *flags)
    assert data["recipe"] == manifest["recipe"] and data["recipe_sha256"] == manifest["recipe_sha256"]
    assert [(i["warc_path"], i["size"]) for i in data["inputs"]] == [(i["warc_path"], i["size"])
                                                                      for i in manifest["inputs"]]
    assert [i["warc_path"] for i in data["inputs"]] == ["warcs/sample-00000.warc.gz", "warcs/sample-00001.warc.gz"]
    assert "sha256" not in data["inputs"][0]  # only with --hash-inputs
    assert data["source"] == {"root": manifest["input_root"]} == {"root": str(locked.base)}


def test_a_locked_build_publishes_the_same_data_and_the_lock(locked):
    assert published_bytes(locked.out, LOCK_SIDE_FILES) == published_bytes(locked.unlocked_out, LOCK_SIDE_FILES)
    assert any(name.startswith("data/") for name in published_bytes(locked.out))
    lock_bytes = locked.lock.read_bytes()
    assert locked.manifest["lock_sha256"] == hashlib.sha256(lock_bytes).hexdigest()
    assert {k: v for k, v in locked.manifest.items() if k != "lock_sha256"} == locked.unlocked
    assert json.loads((locked.out / "manifest.json").read_bytes()) == locked.manifest
    assert (locked.out / "warcforge.lock").read_bytes() == lock_bytes
    assert "drift" not in locked.manifest
    assert f"sha256: `{locked.manifest['lock_sha256']}`" in (locked.out / "README.md").read_text()


def test_the_cli_refuses_a_lock_of_other_package_versions(sample_dir, tmp_path):
    warcs = copy_sample(sample_dir, tmp_path / "warcs")
    recipe = write_recipe(tmp_path / "r.yaml", ["unused.warc.gz"])
    lock, out = tmp_path / "l.json", tmp_path / "out"
    made = subprocess.run([WARCFORGE, "lock", "--config", str(recipe), "-o", str(lock),
                           "--input", str(warcs / "*.warc.gz")], capture_output=True, text=True, cwd=REPO, timeout=120)
    assert made.returncode == 0, made.stderr
    assert made.stdout.startswith("warcforge lock: 4 input files (2.8 MB), recipe sha256 ")
    edit_lock(lock, fake_pyarrow)
    result = subprocess.run([WARCFORGE, "build", "--lock", str(lock), "--output", str(out), "--quiet"],
                            capture_output=True, text=True, cwd=REPO, timeout=120)
    assert result.returncode == 2
    assert result.stderr.splitlines() == ("warcforge: error: " + drift_text(
        lock, [f"package pyarrow: locked 0.0.1, installed {INSTALLED_PYARROW}"])).splitlines()
    assert result.stdout == ""
    assert not out.exists()


@pytest.mark.parametrize("change, hash_inputs", [("flip a byte", True), ("append", False), ("append", True)])
def test_a_changed_input_is_refused(sample_dir, tmp_path, change, hash_inputs):
    warcs = copy_sample(sample_dir, tmp_path / "warcs")
    recipe = write_recipe(tmp_path / "r.yaml", [str(warcs / "*.warc.gz")])
    lock = make_lock(recipe, tmp_path / "l.json", *(["--hash-inputs"] if hash_inputs else []))
    changed = warcs / "sample-00001.warc.gz"
    size, digest = changed.stat().st_size, sha256(changed)
    if change == "append":
        changed.write_bytes(changed.read_bytes() + b"\0" * 10)
        line = f"input sample-00001.warc.gz: {size + 10:,} bytes, the lock says {size:,}"
    else:
        flip_middle_byte(changed)
        assert changed.stat().st_size == size
        line = f"input sample-00001.warc.gz: sha256 is {sha256(changed)}, the lock says {digest}"
    assert refused(lock, tmp_path / "out") == drift_text(lock, [line])


def test_a_changed_url_list_is_refused(sample_dir, tmp_path):
    warcs = copy_sample(sample_dir, tmp_path / "warcs")
    (tmp_path / "domains.txt").write_text("blocked.example\n")
    recipe = write_recipe(tmp_path / "r.yaml", [str(warcs / "*.warc.gz")],
                          filters={"url": {"enabled": True, "domains": ["domains.txt"]}})
    lock = make_lock(recipe, tmp_path / "l.json")
    assert json.loads(lock.read_bytes())["url_lists"] == {"domains.txt": sha256(tmp_path / "domains.txt")}
    (tmp_path / "domains.txt").write_text("blocked.example\nalso-blocked.example\n")
    assert refused(lock, tmp_path / "out") == drift_text(lock, ["URL list domains.txt: its sha256 differs from the "
                                                                "lock's"])


def test_many_differences_are_listed_up_to_twenty(locked, tmp_path):
    def add_packages(data: dict) -> None:
        data["versions"] |= {f"fake-{i:02d}": "1.0" for i in range(25)}

    lock = edit_lock(shutil.copy(locked.lock, tmp_path / "l.json"), add_packages)
    lines = [f"package fake-{i:02d}: locked 1.0, installed absent" for i in range(20)]
    message = refused(lock, tmp_path / "out")
    assert message == drift_text(lock, lines).replace("(20 differences)", "(25 differences)") + "\n  and 5 more"


def test_over_http_a_lock_records_the_etag_and_refuses_another(sample_dir, tmp_path):
    served = copy_sample(sample_dir, tmp_path / "served")
    recipe = write_recipe(tmp_path / "r.yaml", ["unused.warc.gz"], read={"retry": FAST_RETRY})
    changed = served / "sample-00001.warc.gz"
    with FaultyServer(served, FaultPlan(seed=1, kinds=(), faults_per_file=0)) as server:
        urls = [f"{server.url}/{p.name}" for p in sorted(served.glob("*.warc.gz"))]
        lock = make_lock(recipe, tmp_path / "l.json", *[arg for url in urls for arg in ("--input", url)])
        data = json.loads(lock.read_bytes())
        assert data["inputs"] == [{"warc_path": p.name, "size": p.stat().st_size,
                                   "etag": etag(p)}
                                  for p in sorted(served.glob("*.warc.gz"))]
        assert data["source"] == {"root": server.url}
        manifest = build_locked(lock, tmp_path / "out")
        assert manifest["input_root"] == server.url and "drift" not in manifest
        was = data["inputs"][1]["etag"]
        flip_middle_byte(changed)  # same size, other bytes: the server's ETag changes
        message = refused(lock, tmp_path / "out2")
    assert message == drift_text(lock, [f"input sample-00001.warc.gz: etag is {etag(changed)}, the lock says {was}"])


def test_allow_drift_builds_and_lists_each_difference(sample_dir, tmp_path, capsys):
    warcs = copy_sample(sample_dir, tmp_path / "warcs")
    recipe = write_recipe(tmp_path / "r.yaml", [str(warcs / "*.warc.gz")])
    lock = edit_lock(make_lock(recipe, tmp_path / "l.json", "--hash-inputs"), fake_pyarrow)
    changed = warcs / "sample-00002.warc.gz"
    digest = sha256(changed)
    flip_middle_byte(changed)
    out = tmp_path / "out"
    assert build_main(["--lock", str(lock), "--output", str(out), "--quiet", "--allow-drift"]) == 0
    manifest = json.loads((out / "manifest.json").read_bytes())
    assert manifest["drift"] == [f"package pyarrow: locked 0.0.1, installed {INSTALLED_PYARROW}",
                                 f"input sample-00002.warc.gz: sha256 is {sha256(changed)}, the lock says {digest}"]
    assert manifest["lock_sha256"] == sha256(lock) and (out / "warcforge.lock").read_bytes() == lock.read_bytes()
    assert (out / "stats.json").is_file() and (out / "README.md").is_file()
    assert "warcforge: error" not in capsys.readouterr().err


@pytest.mark.parametrize("change", ["grow", "shrink"])
def test_allow_drift_reads_an_input_of_another_size_whole(sample_dir, tmp_path, change):
    warcs = copy_sample(sample_dir, tmp_path / "warcs")
    recipe = write_recipe(tmp_path / "r.yaml", [str(warcs / "*.warc.gz")], read={"retry": FAST_RETRY})
    lock = make_lock(recipe, tmp_path / "l.json")
    changed = warcs / "sample-00001.warc.gz"
    other = (warcs / "sample-00002.warc.gz").read_bytes()  # whole gzip members: still a valid WARC file
    changed.write_bytes(changed.read_bytes() + other if change == "grow" else other[:len(other) // 2])
    manifest = build_locked(lock, tmp_path / "out", "--allow-drift")
    unlocked = build(recipe, tmp_path / "unlocked", "--quiet")
    assert manifest["failed_shards"] == []
    assert manifest["counts"] == unlocked["counts"] and manifest["inputs"] == unlocked["inputs"]


def test_input_root_rebuilds_from_a_copy_into_the_same_manifest(locked, tmp_path):
    moved = shutil.copytree(locked.warcs, tmp_path / "elsewhere")
    out = tmp_path / "out"
    build_locked(locked.lock, out, "--input-root", str(moved))
    assert (out / "manifest.json").read_bytes() == (locked.out / "manifest.json").read_bytes()
    assert published_bytes(out, ("run_info.json", "inputs.json")) == published_bytes(locked.out,
                                                                                     ("run_info.json", "inputs.json"))
    read = json.loads((out / "inputs.json").read_bytes())  # where this run read them
    assert [i["url"] for i in read] == [str(moved / i["warc_path"]) for i in read]


def edited_recipe(locked, tmp_path):
    def rename(data: dict) -> None:
        data["recipe"]["name"] = "edited"

    lock = edit_lock(shutil.copy(locked.lock, tmp_path / "l.json"), rename)
    return ["--lock", str(lock)], f"lock {lock}: its recipe does not match its recipe_sha256 (edited by hand?)"


def a_recipe_as_lock(locked, tmp_path):
    return (["--lock", str(locked.recipe)],
            f"lock {locked.recipe} is not a warcforge lock (format warcforge-lock/1 expected)")


def a_yaml_recipe_as_lock(locked, tmp_path):
    recipe = REPO / "configs" / "sample.yaml"
    return ["--lock", str(recipe)], f"lock {recipe} is not JSON (Expecting value: line 1 column 1 (char 0))"


def a_missing_lock(locked, tmp_path):
    return (["--lock", str(tmp_path / "nope.lock")],
            f"lock {tmp_path / 'nope.lock'} cannot be read (No such file or directory)")


def lock_and_input(locked, tmp_path):
    return (["--lock", str(locked.lock), "--input", str(locked.warcs / "*.warc.gz")],
            "--input replaces a recipe's inputs, and a lock names its own; with --lock, --input-root says where the "
            "locked files lie now")


def allow_drift_without_lock(locked, tmp_path):
    return ["--config", str(locked.recipe), "--allow-drift"], "--allow-drift goes with --lock"


def a_missing_input(locked, tmp_path):
    warcs = shutil.copytree(locked.warcs, tmp_path / "warcs")
    lock = make_lock(write_recipe(tmp_path / "r.yaml", [str(warcs / "*.warc.gz")]), tmp_path / "l.json")
    (warcs / "sample-00003.warc.gz").rename(tmp_path / "moved-away.warc.gz")
    return ["--lock", str(lock)], f"input file not found: {warcs / 'sample-00003.warc.gz'}"


@pytest.mark.parametrize("case", [edited_recipe, a_recipe_as_lock, a_yaml_recipe_as_lock, a_missing_lock,
                                  lock_and_input, allow_drift_without_lock, a_missing_input],
                         ids=lambda case: case.__name__)
def test_errors_are_one_line_and_exit_2(locked, tmp_path, capsys, case):
    argv, expected = case(locked, tmp_path)
    out = tmp_path / "out"
    capsys.readouterr()
    assert build_main([*argv, "--output", str(out), "--quiet"]) == 2
    captured = capsys.readouterr()
    assert captured.err == f"warcforge: error: {expected}\n"
    assert captured.out == ""
    assert not out.exists()


def test_a_lock_names_one_source(locked, tmp_path, capsys):
    with pytest.raises(SystemExit) as caught:
        build_main(["--lock", str(locked.lock), "--config", str(locked.recipe), "--output", str(tmp_path / "out")])
    assert caught.value.code == 2
    assert "argument --config: not allowed with argument --lock" in capsys.readouterr().err


def write_crawl(sample_dir: Path, root: Path) -> list[str]:
    """A Common Crawl layout (as test_common_crawl's) with the sample shards as its WARC files."""
    (root / SEGMENT).mkdir(parents=True)
    names = []
    for i, shard in enumerate(sorted(sample_dir.glob("*.warc.gz"))):
        names.append(f"{SEGMENT}/{CRAWL}-20990101000000-{i:05d}.warc.gz")
        shutil.copy(shard, root / names[-1])
    write_paths_file(root, names)
    return names


def write_paths_file(root: Path, names: list[str]) -> Path:
    listing = root / f"crawl-data/{CRAWL}/warc.paths.gz"
    listing.write_bytes(gzip.compress("\n".join(names).encode() + b"\n", mtime=0))
    return listing


def test_a_crawl_lock_records_its_paths_file_and_refuses_another(sample_dir, tmp_path):
    root = tmp_path / "commoncrawl"
    names = write_crawl(sample_dir, root)
    recipe = crawl_recipe(tmp_path, str(root), first=2)
    lock = make_lock(recipe, tmp_path / "l.json")
    data = json.loads(lock.read_bytes())
    listing = root / f"crawl-data/{CRAWL}/warc.paths.gz"
    assert data["source"] == {"crawl": CRAWL, "kind": "warc",
                              "paths_file": {"url": paths_file_url(str(root), CRAWL, "warc"),
                                             "sha256": sha256(listing)}}
    assert data["inputs"] == [{"warc_path": name, "size": (root / name).stat().st_size} for name in names[:2]]

    manifest = build_locked(lock, tmp_path / "out")
    unlocked = build(recipe, tmp_path / "unlocked", "--quiet")
    assert [i["warc_path"] for i in manifest["inputs"]] == [i["warc_path"] for i in unlocked["inputs"]] == names[:2]
    assert manifest["lock_sha256"] == sha256(lock) and "drift" not in manifest
    # A crawl's listing gives no sizes (null in an unlocked build's manifest); a locked build has the lock's.
    assert manifest["inputs"] == [{k: i[k] for k in ("warc_path", "size")} for i in data["inputs"]]
    assert {k: v for k, v in manifest.items() if k not in ("lock_sha256", "inputs")} == {
        k: v for k, v in unlocked.items() if k != "inputs"}
    assert published_bytes(tmp_path / "out", (*LOCK_SIDE_FILES, "inputs.json")) == published_bytes(
        tmp_path / "unlocked", (*LOCK_SIDE_FILES, "inputs.json"))

    write_paths_file(root, [*names, f"{SEGMENT}/{CRAWL}-20990101000000-00004.warc.gz"])
    assert refused(lock, tmp_path / "out2") == drift_text(
        lock, [f"paths file {paths_file_url(str(root), CRAWL, 'warc')}: its sha256 differs from the lock's"])


def test_input_root_moves_a_crawl_and_its_paths_file(sample_dir, tmp_path):
    root = tmp_path / "commoncrawl"
    write_crawl(sample_dir, root)
    lock = make_lock(crawl_recipe(tmp_path, str(root), first=2), tmp_path / "l.json")
    built_there = build_locked(lock, tmp_path / "out")
    moved = root.rename(tmp_path / "mirror")
    assert build_locked(lock, tmp_path / "out2", "--input-root", str(moved)) == built_there
