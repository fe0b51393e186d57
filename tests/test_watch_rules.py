"""The rule modules of ``warcforge watch``, without a pipeline: which files have arrived, the poller's
claims, dedup across batches, batch names, and publishing a batch (test_watch.py runs the command)."""

import gzip
import hashlib
import http.server
import threading
from collections.abc import Iterator
from functools import partial
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from transforms.common.batch_ledger import BatchEntry, BatchLedger, FileHistory
from transforms.common.batches import batch_name, iso, parse_iso_ms, window_of
from transforms.common.records import INDEX_KEY
from transforms.dedup.seen_before import DAY_MS, SeenSettings, kept_earlier, published_digests, still_remembered
from transforms.reading.arrivals import MARKER, WatchSource, cc_news_months, complete_files, list_source
from transforms.reading.claims import Claim, Claims
from transforms.reading.poller import Poller, PollResult, PollSettings
from transforms.reading.resumable_file import RetryPolicy
from transforms.writing.batch_publish import batch_manifest, publish_batch, roll_forward
from transforms.writing.parquet_file import WrittenFile
from transforms.writing.publish import dumps_json

POLICY = RetryPolicy(max_attempts=1, initial_backoff_s=0.01, max_backoff_s=0.01, min_retry_interval_s=0.0)
T0 = parse_iso_ms("2026-11-30T06:15:00.000Z")  # the start of a 5-minute window
MINUTE = 60_000


def write_files(folder: Path, files: dict[str, bytes]) -> None:
    for name, data in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(data)


# Arrivals: listing a source and telling a complete file.

def test_stable_size_needs_the_same_nonzero_size_twice_and_never_takes_open_or_hidden_files(tmp_path):
    write_files(tmp_path, {"a.warc.gz": b"a" * 10, "empty.warc.gz": b"", "grow.warc.gz": b"g",
                           "b.warc.gz.open": b"x", "c.warc.gz.tmp": b"x", "d.warc.gz.part": b"x", ".e.warc.gz": b"x"})
    source = WatchSource(patterns=(str(tmp_path),), root=str(tmp_path))
    first = list_source(source, POLICY, T0)
    assert sorted(first.names.values()) == ["a.warc.gz", "empty.warc.gz", "grow.warc.gz"]
    assert first.sizes[str(tmp_path / "a.warc.gz")] == 10 and first.markers == frozenset()
    assert complete_files(first, {}, source) == []  # nothing was listed before
    with (tmp_path / "grow.warc.gz").open("ab") as stream:
        stream.write(b"rowing")
    second = list_source(source, POLICY, T0 + 1000)
    assert complete_files(second, first.sizes, source) == [str(tmp_path / "a.warc.gz")]
    third = list_source(source, POLICY, T0 + 2000)
    assert complete_files(third, second.sizes, source) == [str(tmp_path / n) for n in ("a.warc.gz", "grow.warc.gz")]


def test_marker_completes_a_file_also_when_the_glob_does_not_match_the_marker(tmp_path):
    write_files(tmp_path, {"a.warc.gz": b"a", "a.warc.gz.done": b"", "b.warc.gz": b"b", "b.warc.gz.tmp.done": b""})
    source = WatchSource(patterns=(str(tmp_path / "*.warc.gz"),), root=str(tmp_path), complete_when=MARKER)
    listing = list_source(source, POLICY, T0)
    assert listing.markers == {str(tmp_path / "a.warc.gz.done")}
    assert complete_files(listing, {}, source) == [str(tmp_path / "a.warc.gz")]
    (tmp_path / "b.warc.gz.done").touch()
    assert complete_files(list_source(source, POLICY, T0), {}, source) == [str(tmp_path / n)
                                                                           for n in ("a.warc.gz", "b.warc.gz")]


def test_a_marker_folder_pattern_lists_every_file_under_it(tmp_path):
    write_files(tmp_path, {"sub/c.warc.gz": b"c", "sub/c.warc.gz.done": b"", "d.warc.gz": b"d"})
    source = WatchSource(patterns=(str(tmp_path),), root=str(tmp_path), complete_when=MARKER)
    listing = list_source(source, POLICY, T0)
    assert sorted(listing.names.values()) == ["d.warc.gz", "sub/c.warc.gz"]
    assert complete_files(listing, {}, source) == [str(tmp_path / "sub" / "c.warc.gz")]


@pytest.mark.parametrize(("now", "months"), [
    ("2026-01-15T00:00:00.000Z", ["2025/12", "2026/01"]),
    ("2026-01-01T00:00:00.000Z", ["2025/12", "2026/01"]),
    ("2026-11-30T23:59:59.999Z", ["2026/10", "2026/11"]),
    ("2026-12-01T00:00:00.000Z", ["2026/11", "2026/12"]),
])
def test_cc_news_months_are_the_previous_and_the_current(now, months):
    assert cc_news_months(parse_iso_ms(now)) == months


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    requested: list[str] = []

    def do_GET(self) -> None:
        self.requested.append(self.path)
        super().do_GET()

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the base class's name
        pass


@pytest.fixture
def web_root(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    """A folder served over HTTP on loopback, and its URL."""
    folder = tmp_path / "www"
    folder.mkdir()
    QuietHandler.requested = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), partial(QuietHandler, directory=str(folder)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield folder, f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_cc_news_lists_the_months_paths_files_and_tolerates_one_not_there_yet(web_root):
    folder, base = web_root
    paths = [f"crawl-data/CC-NEWS/2026/11/CC-NEWS-2026113000000{i}-0000{i}.warc.gz" for i in (1, 2)]
    write_files(folder, {"crawl-data/CC-NEWS/2026/11/warc.paths.gz": gzip.compress("\n".join(paths).encode() + b"\n")})
    source = WatchSource(cc_news_base=base)
    listing = list_source(source, POLICY, parse_iso_ms("2026-11-30T12:00:00.000Z"))
    assert "/crawl-data/CC-NEWS/2026/10/warc.paths.gz" in QuietHandler.requested  # answered 404
    assert listing.names == {base + p: p for p in paths}
    assert listing.sizes == {base + p: None for p in paths}
    assert complete_files(listing, {}, source) == [base + p for p in paths]


# The poller: claims, replays, the ledger and retries.

def make_poller(landing: Path, out: Path, max_file_attempts: int = 2) -> Poller:
    source = WatchSource(patterns=(str(landing),), root=str(landing))
    return Poller(PollSettings(source, POLICY, str(out), window_s=300, max_file_attempts=max_file_attempts,
                               poll_interval_s=1.0))


def arrivals(result: PollResult) -> list[tuple[str, int]]:
    return [(f.url, at) for f, at in result.arrived]


def record_batch(out: Path, start_ms: int, end_ms: int, files: list[str], failed: list[dict] | None = None) -> None:
    out.mkdir(exist_ok=True)  # the watch's driver makes the root
    BatchLedger.at(str(out)).record(batch_name(start_ms, end_ms),
                                    BatchEntry("0" * 64, iso(start_ms), iso(end_ms), files, failed or []))


def landing_with(tmp_path: Path, name: str) -> tuple[Path, str]:
    landing = tmp_path / "landing"
    write_files(landing, {name: b"w" * 10})
    return landing, str(landing / name)


def test_a_claimed_file_keeps_its_batch_when_a_restored_runner_replays_the_poll(tmp_path):
    landing, a = landing_with(tmp_path, "a.warc.gz")
    out = tmp_path / "out"
    poller = make_poller(landing, out)
    first = poller.poll(T0, None)
    assert first.arrived == [] and first.state.sizes == {a: 10}  # stable_size: only sizes the first time
    second = poller.poll(T0 + 5000, first.state)
    assert arrivals(second) == [(a, T0 + 5000)] and second.arrived[0][0].name == "a.warc.gz"
    assert (out / "_watch" / "claims.json").is_file()
    assert Claims(str(out)).read() == {a: Claim(T0 + 5000, 1)}
    assert poller.poll(T0 + 6000, second.state).arrived == []  # sent on already
    replay = make_poller(landing, out).poll(T0 + 1000, first.state)
    assert arrivals(replay) == [(a, T0 + 5000)]


def test_a_fresh_watch_claims_an_unpublished_file_again_at_its_own_time(tmp_path):
    landing, a = landing_with(tmp_path, "a.warc.gz")
    out = tmp_path / "out"
    poller = make_poller(landing, out)
    poller.poll(T0 + 5000, poller.poll(T0, None).state)
    later = T0 + 20 * MINUTE
    fresh = make_poller(landing, out)
    listed = fresh.poll(later, None)
    assert listed.arrived == [] and Claims(str(out)).read() == {a: Claim(later, 1)}
    assert arrivals(fresh.poll(later + 1000, listed.state)) == [(a, later + 1000)]


def test_a_published_file_is_never_returned_and_new_claims_go_after_the_published_windows(tmp_path):
    landing, a = landing_with(tmp_path, "a.warc.gz")
    out = tmp_path / "out"
    poller = make_poller(landing, out)
    claimed = poller.poll(T0 + 5000, poller.poll(T0, None).state)
    end = T0 + 10 * MINUTE
    record_batch(out, T0, end, [a])
    write_files(landing, {"b.warc.gz": b"b" * 7})
    b = str(landing / "b.warc.gz")
    seen = poller.poll(T0 + 6000, claimed.state)
    assert seen.arrived == [] and seen.given_up == []
    assert arrivals(poller.poll(T0 + 7000, seen.state)) == [(b, end)]  # now < end: the claim goes to end
    assert Claims(str(out)).read() == {b: Claim(end, 1)}
    fresh = make_poller(landing, out)
    assert arrivals(fresh.poll(T0 + 9000, fresh.poll(T0 + 8000, None).state)) == [(b, end)]


def poll_twice_after_failures(tmp_path: Path, failed_attempt: int) -> tuple[PollResult, str, Path]:
    landing, c = landing_with(tmp_path, "c.warc.gz")
    out = tmp_path / "out"
    failed = [{"url": c, "reason": "broken", "attempt": failed_attempt}]
    record_batch(out, T0 - 10 * MINUTE, T0 - 5 * MINUTE, [], failed)
    poller = make_poller(landing, out, max_file_attempts=2)
    return poller.poll(T0 + 1000, poller.poll(T0, None).state), c, out


def test_a_file_whose_attempts_reached_the_cap_is_given_up(tmp_path):
    result, c, out = poll_twice_after_failures(tmp_path, failed_attempt=2)
    assert result.given_up == [c] and result.arrived == []
    assert Claims(str(out)).read() == {}


def test_a_failed_file_below_the_cap_is_read_again_as_its_next_attempt(tmp_path):
    result, c, out = poll_twice_after_failures(tmp_path, failed_attempt=1)
    assert arrivals(result) == [(c, T0 + 1000)] and result.given_up == []
    assert Claims(str(out)).read() == {c: Claim(T0 + 1000, 2)}


# Dedup across batches.

def test_a_text_is_kept_earlier_only_by_an_earlier_batch_still_remembered():
    assert not still_remembered(None, T0, None)
    assert still_remembered(T0, T0 + 1000 * DAY_MS, None)
    assert still_remembered(T0, T0 + DAY_MS, DAY_MS) and not still_remembered(T0, T0 + DAY_MS + 1, DAY_MS)
    assert kept_earlier(T0, None, T0 + MINUTE, None) and kept_earlier(None, T0, T0 + MINUTE, None)
    assert not kept_earlier(T0, T0, T0, None)  # the same batch is not earlier
    assert not kept_earlier(T0 + MINUTE, None, T0, None) and not kept_earlier(None, None, T0, None)
    assert kept_earlier(T0, None, T0 + DAY_MS, DAY_MS) and not kept_earlier(T0, None, T0 + DAY_MS + 1, DAY_MS)
    assert kept_earlier(T0 - 2 * DAY_MS, T0, T0 + MINUTE, DAY_MS)  # the one still remembered counts


def write_batch(root: Path, start_ms: int, keys: list[str], inputs: tuple[str, ...] = ()) -> dict:
    """A batch's index file under ROOT/batches/<name>/, and its manifest (not written)."""
    end = start_ms + 5 * MINUTE
    sink = pa.BufferOutputStream()
    pq.write_table(pa.table({INDEX_KEY: pa.array(keys, pa.string())}), sink)
    data = sink.getvalue().to_pybytes()
    digest = hashlib.sha256(data).hexdigest()
    relative = f"index/part-{digest[:16]}.parquet"
    write_files(root / "batches" / batch_name(start_ms, end), {relative: data})
    written = WrittenFile(relative, len(keys), len(data), digest)
    return batch_manifest({}, start_ms, end, [{"url": u, "warc_path": Path(u).name, "size": 1} for u in inputs], [],
                          {"index": [written]}, 0, FileHistory.of({}))


def index_keys(url: str) -> list[str]:
    return pq.read_table(url, columns=[INDEX_KEY]).column(INDEX_KEY).to_pylist()


def test_published_digests_map_each_text_to_its_earliest_batch_and_forget_batches_past_the_ttl(tmp_path):
    root, later = tmp_path / "out", T0 + 2 * DAY_MS
    assert publish_batch(str(root), write_batch(root, later, ["k2", "k3"]))
    assert publish_batch(str(root), write_batch(root, T0, ["k1", "k2"]))
    everything = {"k1": T0, "k2": T0, "k3": later}
    assert published_digests(SeenSettings(str(root), None), later + MINUTE, index_keys) == everything
    assert published_digests(SeenSettings(str(root), 3 * DAY_MS), later + MINUTE, index_keys) == everything
    assert published_digests(SeenSettings(str(root), DAY_MS), later + MINUTE, index_keys) == {"k2": later, "k3": later}


# Batch names and windows.

@pytest.mark.parametrize("window_s", [1, 60, 300, 3600])
def test_window_of_holds_the_time_and_starts_on_a_multiple_of_its_size(window_s):
    ms = parse_iso_ms("2026-11-30T06:17:42.123Z")
    start, end = window_of(ms, window_s)
    assert start <= ms < end and end - start == window_s * 1000 and start % (window_s * 1000) == 0
    assert window_of(start, window_s) == window_of(end - 1, window_s) == (start, end)
    assert window_of(end, window_s)[0] == end


def test_batch_names_and_iso_times_round_trip():
    assert batch_name(*window_of(T0 + 123_456, 300)) == "20261130T061500Z-20261130T062000Z"
    assert iso(parse_iso_ms("2026-11-30T06:17:42.123Z")) == "2026-11-30T06:17:42.123Z"
    for ms in (0, 1, 999, 1_001, T0 + 7, 1_800_000_000_001, 4_102_444_799_999):
        assert parse_iso_ms(iso(ms)) == ms


# Publishing a batch.

def test_a_batch_is_published_once_its_manifest_first(tmp_path, monkeypatch):
    root = tmp_path / "out"
    manifest = write_batch(root, T0, ["k1"], inputs=("/in/a.warc.gz",))
    name, manifest_path = manifest["batch"], root / "batches" / manifest["batch"] / "manifest.json"

    def crash(*_args: object) -> None:
        raise OSError("stopped between the two steps")

    with monkeypatch.context() as patched:
        patched.setattr(BatchLedger, "record", crash)
        with pytest.raises(OSError):
            publish_batch(str(root), manifest)
    assert manifest_path.read_bytes() == dumps_json(manifest) and not (root / "ledger.json").exists()
    assert publish_batch(str(root), manifest)
    data = manifest_path.read_bytes()
    entry = BatchLedger.at(str(root)).read()[name]
    assert entry.manifest_sha256 == hashlib.sha256(data).hexdigest() and entry.files == ["/in/a.warc.gz"]
    assert (entry.window_start, entry.window_end) == (iso(T0), iso(T0 + 5 * MINUTE))
    ledger_bytes = (root / "ledger.json").read_bytes()
    assert not publish_batch(str(root), manifest | {"seen_before": 5})
    assert manifest_path.read_bytes() == data and (root / "ledger.json").read_bytes() == ledger_bytes


def test_roll_forward_enters_complete_manifests_and_removes_other_unlisted_folders(tmp_path):
    root = tmp_path / "out"
    published = write_batch(root, T0 - 5 * MINUTE, ["k0"])
    assert publish_batch(str(root), published)
    complete = write_batch(root, T0, ["k1"], inputs=("/in/a.warc.gz",))
    no_manifest = write_batch(root, T0 + 5 * MINUTE, ["k2"])
    missing_file = write_batch(root, T0 + 10 * MINUTE, ["k3"])
    wrong_size = write_batch(root, T0 + 15 * MINUTE, ["k4"])
    for manifest in (complete, missing_file, wrong_size):
        write_files(root / "batches" / manifest["batch"], {"manifest.json": dumps_json(manifest)})
    index = [f["path"] for f in missing_file["files"]["index"]] + [f["path"] for f in wrong_size["files"]["index"]]
    (root / "batches" / missing_file["batch"] / index[0]).unlink()
    with (root / "batches" / wrong_size["batch"] / index[1]).open("ab") as stream:
        stream.write(b"more")
    done = roll_forward(str(root))
    assert len(done) == 4 and "entered" in done[0] and all("removed" in line for line in done[1:])
    ledger = BatchLedger.at(str(root)).read()
    assert set(ledger) == {published["batch"], complete["batch"]}
    data = (root / "batches" / complete["batch"] / "manifest.json").read_bytes()
    assert ledger[complete["batch"]].manifest_sha256 == hashlib.sha256(data).hexdigest()
    assert ledger[complete["batch"]].files == ["/in/a.warc.gz"]
    assert sorted(p.name for p in (root / "batches").iterdir()) == sorted(ledger)
    assert no_manifest["batch"] not in ledger and roll_forward(str(root)) == []


def test_a_longer_batch_window_never_reopens_a_published_window(tmp_path):
    # Published: [60 000, 120 000) with 60 s windows. Now 2-minute windows, at a time inside it: the
    # window holding it would start at 0, before the published one ends; the claim goes after it.
    landing, root = tmp_path / "landing", tmp_path / "root"
    landing.mkdir()
    root.mkdir()
    (landing / "a.warc.gz").write_bytes(b"x" * 10)
    BatchLedger.at(str(root)).record("published", BatchEntry("0" * 64, iso(60_000), iso(120_000), []))
    source = WatchSource((str(landing / "*.warc.gz"),), str(landing))
    poller = Poller(PollSettings(source, POLICY, str(root), 120, 3, 0.5))
    state = poller.poll(90_000, None).state
    (arrived,) = poller.poll(95_000, state).arrived
    start, _ = window_of(arrived[1], 120)
    assert start >= 120_000


def test_roll_forward_touches_only_folders_named_as_batches_and_keeps_partial_ones_when_asked(tmp_path):
    root = tmp_path / "root"
    (root / "batches" / "my-analysis").mkdir(parents=True)
    (root / "batches" / "README.txt").write_text("notes")
    partial = root / "batches" / "20261130T000000Z-20261130T000500Z"
    (partial / "data").mkdir(parents=True)
    assert roll_forward(str(root), remove_partial=False) == []
    assert partial.exists() and (root / "batches" / "my-analysis").exists()
    assert len(roll_forward(str(root))) == 1 and not partial.exists()
    assert (root / "batches" / "my-analysis").exists() and (root / "batches" / "README.txt").exists()
