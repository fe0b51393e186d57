"""The Dataflow job, built by Beam's DataflowRunner without being submitted (``--dry-run``).

Inputs are listed from a GCS emulator on loopback, as the driver lists gs:// inputs for a real
job; Beam translates and checks the whole graph for Dataflow, and nothing is read or written.
"""

import os
import subprocess
import urllib.request

import pytest

from beam_jobs.build import run_build
from beam_jobs.runners import RunnerOptionsError
from testbed.http_server import FileServer
from tests.conftest import REPO, WARCFORGE, gcs_upload, write_recipe

IMAGE = "europe-west4-docker.pkg.dev/warcforge-example/warcforge/worker:0.2.0"
DATAFLOW_OPTIONS = ["--runner=DataflowRunner", "--project=warcforge-example", "--region=europe-west4",
                    "--temp_location=gs://warcforge-runs/tmp", "--staging_location=gs://warcforge-runs/staging",
                    f"--sdk_container_image={IMAGE}", "--sdk_location=container", "--job_name=warcforge-sample",
                    "--max_num_workers=8", "--machine_type=n2-highmem-4", "--experiments=use_runner_v2"]


def _warcforge(args: list[str], emulator: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "STORAGE_EMULATOR_HOST": emulator, "GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT": "false"}
    return subprocess.run([WARCFORGE, "build", *args], capture_output=True, text=True, cwd=REPO, env=env,
                          timeout=300)


def test_dry_run_builds_the_whole_graph_for_dataflow(gcs_emulator, sample_dir, tmp_path):
    for shard in sorted(sample_dir.glob("*.warc.gz")):
        gcs_upload(gcs_emulator, "warcforge-crawl", f"sample/{shard.name}", shard.read_bytes())
    recipe = write_recipe(tmp_path / "r.yaml", ["gs://warcforge-crawl/sample/*.warc.gz"],
                          filters={"language": {"enabled": True}, "gopher_quality": {"enabled": True},
                                   "rejected_sample_rate": 0.1},
                          dedup={"near": {"enabled": True}, "url": "newest"})
    result = _warcforge(["--config", str(recipe), "--output", "gs://warcforge-runs/datasets/sample",
                         "--dry-run", *DATAFLOW_OPTIONS], gcs_emulator)
    assert result.returncode == 0, result.stderr
    summary, stages = result.stdout.strip().splitlines()[-2:]
    assert summary.startswith("dry run: DataflowRunner job warcforge-sample for project warcforge-example in "
                              "europe-west4: ")
    assert f"4 input files, workers {IMAGE}; nothing was submitted, read or written" in summary
    built = stages.removeprefix("stages: ").split(", ")
    order = ["ReadWarcShards", "ExtractText", "FilterDocuments", "DedupByUrl", "ExactDedup", "NearDedup",
             "WriteDocuments"]
    assert [stage for stage in built if stage in order] == order
    assert {"WriteDeadLetters", "WriteRejected", "WriteFileList"} <= set(built)
    # Nothing was written: the output bucket was never created.
    with urllib.request.urlopen(f"{gcs_emulator}/storage/v1/b?project=test", timeout=10) as response:
        listing = response.read().decode()
    assert "warcforge-runs" not in listing and "warcforge-crawl" in listing


@pytest.mark.parametrize(("change", "message"), [
    ({"input": "local"}, "DataflowRunner workers cannot read local files (4 inputs, e.g. "),
    ({"output": "local"}, "DataflowRunner workers cannot write the local directory "),
    ({"drop": "--temp_location"}, "DataflowRunner needs --temp_location"),
    ({"drop": "--project"}, "DataflowRunner needs --project"),
    ({"drop": "--sdk_container_image"}, "DataflowRunner workers need warcforge installed: pass "
                                        "--sdk_container_image=IMAGE built from deploy/docker/Dockerfile"),
])
def test_options_the_workers_cannot_use_are_refused_by_name(change, message, sample_dir, tmp_path):
    with FileServer(sample_dir) as server:
        inputs = [str(sample_dir / "*.warc.gz")] if change.get("input") else [f"{server.url}/sample-00000.warc.gz"]
        options = [o for o in DATAFLOW_OPTIONS if o.split("=")[0] != change.get("drop")]
        output = str(tmp_path / "out") if change.get("output") else "gs://warcforge-runs/datasets/x"
        recipe = write_recipe(tmp_path / "r.yaml", inputs)
        with pytest.raises(RunnerOptionsError) as refused:
            run_build(["--config", str(recipe), "--output", output, "--dry-run", *options])
    assert str(refused.value).startswith(message)
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("runner", [[], ["--runner=PortableRunner", "--job_endpoint=localhost:1"]])
def test_a_dry_run_on_any_runner_prints_the_plan_and_touches_nothing(sample_dir, tmp_path, capsys, runner):
    recipe = write_recipe(tmp_path / "r.yaml", [str(sample_dir / "*.warc.gz")],
                          filters={"gopher_quality": {"enabled": True}, "rejected_sample_rate": 0.1},
                          dedup={"near": {"enabled": True}})
    outcome = run_build(["--config", str(recipe), "--output", str(tmp_path / "out"), "--dry-run", *runner])
    plan = outcome["dry_run"]["plan"]
    size = sum(p.stat().st_size for p in sample_dir.glob("*.warc.gz"))
    assert (plan["files"], plan["bytes"], plan["files_of_assumed_size"]) == (4, size, 0)
    assert plan["stages"] == ["read", "extract (resiliparse_pruned)", "filter (gopher_quality)", "dedup_exact",
                              "near_dedup (14 bands x 8 rows)", "write"]
    assert plan["output_shards"] == {"documents": 4, "dead_letter": 1, "rejected": 1}
    assert plan["core_hours"] == pytest.approx(size / 1e6 / 5.22 / 3600)
    printed = capsys.readouterr().out
    assert printed.startswith(f"plan ({plan['runner']}): nothing was read or written\n  input        4 files, ")
    assert "core-seconds at 5.22 MB/s per core" in printed
    assert not (tmp_path / "out").exists()


def test_watch_dry_run_builds_a_streaming_dataflow_job(tmp_path):
    recipe = tmp_path / "watch.yaml"
    recipe.write_text('{"name": "news", "watch": {"paths": ["gs://warcforge-crawl/incoming/*.warc.gz"], '
                      '"batch_window_s": 600}, "dedup": {"url": "newest"}}')
    result = subprocess.run([WARCFORGE, "watch", "--config", str(recipe), "--output", "gs://warcforge-runs/stream",
                             "--dry-run", *DATAFLOW_OPTIONS], capture_output=True, text=True, cwd=REPO, timeout=300)
    assert result.returncode == 0, result.stderr
    plan, summary, stages = result.stdout.strip().splitlines()[-3:]
    assert plan.startswith("watch plan: follow gs://warcforge-crawl/incoming/*.warc.gz every 60 s, batches of 600 s")
    assert summary.startswith("dry run: DataflowRunner streaming job warcforge-sample for project warcforge-example")
    built = stages.removeprefix("stages: ").split(", ")
    order = ["EveryPollInterval", "PollForFiles", "IntoBatches", "ReadWarcShards", "ExtractText", "DedupByUrl",
             "ExactDedup", "SeenInEarlierBatch", "WriteDocuments", "PublishBatches"]
    assert [stage for stage in built if stage in order] == order
    # A local folder cannot be watched from Dataflow's workers: refused by name before any work.
    recipe.write_text('{"name": "news", "watch": {"paths": ["/data/incoming"]}}')
    result = subprocess.run([WARCFORGE, "watch", "--config", str(recipe), "--output", "gs://warcforge-runs/stream",
                             "--dry-run", *DATAFLOW_OPTIONS], capture_output=True, text=True, cwd=REPO, timeout=300)
    assert result.returncode == 2 and "watch.paths must be gs://" in result.stderr
