"""The build on Beam's portable runner, against Beam's Python job service started on loopback:
the cheap portability check before a real Flink cluster. Output must match the DirectRunner's.

With an EXTERNAL worker pool started in another directory, the workers are separate processes
that share nothing with the driver but the pickled pipeline, as on a cluster: a DoFn that relied
on the driver's working directory, a relative path or state set up in the driver fails there."""

import shutil
import sys

import pytest

from tests.conftest import REPO, build, free_port, published_bytes, serve, write_recipe


@pytest.fixture(scope="module")
def job_service():
    port = free_port()
    process = serve([sys.executable, "-m", "apache_beam.runners.portability.local_job_service_main",
                      f"--port={port}"], port, "Beam's job service")
    yield f"localhost:{port}"
    process.terminate()
    process.wait(timeout=30)


def test_portable_runner_output_is_byte_identical(job_service, sample_dir, tmp_path):
    recipe = write_recipe(tmp_path / "r.yaml", [str(sample_dir / "*.warc.gz")], dedup={"near": {"enabled": True}},
                          filters={"gopher_repetition": {"enabled": True}, "rejected_sample_rate": 0.5})
    direct = build(recipe, tmp_path / "direct")
    portable = build(recipe, tmp_path / "portable", "--runner=PortableRunner", f"--job_endpoint={job_service}",
                     "--environment_type=LOOPBACK")
    assert published_bytes(tmp_path / "portable") == published_bytes(tmp_path / "direct")
    assert portable["counts"] == direct["counts"] and portable["documents"] > 0


def test_workers_in_another_directory_need_nothing_from_the_driver(job_service, worker_pool, sample_dir, tmp_path):
    # Relative recipe paths (the blocklists, beside the recipe) and every stage's heavy state (language
    # model, extractor, hashers) must reach separate worker processes through the pipeline alone.
    shutil.copytree(REPO / "configs" / "blocklists", tmp_path / "blocklists")
    recipe = write_recipe(tmp_path / "r.yaml", [str(sample_dir / "*.warc.gz")], dedup={"near": {"enabled": True}},
                          filters={"url": {"enabled": True, "domains": ["blocklists/example-domains.txt"],
                                           "words": ["blocklists/example-words.txt"]},
                                   "language": {"enabled": True, "keep": ["en"], "min_score": 0.3},
                                   "gopher_quality": {"enabled": True}, "rejected_sample_rate": 1.0})
    direct = build(recipe, tmp_path / "direct")
    external = build(recipe, tmp_path / "external", "--runner=PortableRunner", f"--job_endpoint={job_service}",
                     "--environment_type=EXTERNAL", f"--environment_config={worker_pool}")
    assert published_bytes(tmp_path / "external") == published_bytes(tmp_path / "direct")
    assert external["counts"] == direct["counts"]
    assert direct["counts"]["filter"]["in"] > direct["counts"]["filter"]["out"] > 0
