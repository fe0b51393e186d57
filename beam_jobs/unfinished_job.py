"""What a build or materialize whose pipeline did not finish does about its job before its staging goes.

On a Flink session cluster or on Dataflow the job runs apart from the driver, and would go on writing
under the staging folder the run is about to remove: it is cancelled (``flink_jobs``, ``dataflow_jobs``).
On the DirectRunner the job ends with the driver, and there is nothing to do.
"""

from typing import TextIO

from apache_beam.options.pipeline_options import PipelineOptions
from apache_beam.runners.runner import PipelineResult

from beam_jobs.dataflow_jobs import stop_dataflow_job
from beam_jobs.flink_jobs import stop_cluster_job
from beam_jobs.runners import is_dataflow


def stop_unfinished_job(options: PipelineOptions, cluster_job: str | None, result: PipelineResult | None,
                        staging: str, err: TextIO, earlier: frozenset[str] = frozenset()) -> str | None:
    """Cancel the job of a run that did not finish: ``cluster_job`` is its name on a Flink cluster (or None),
    ``result`` what the runner returned once it took the job (or None). Returns the staging folder the job
    may still write to, or None."""
    if cluster_job is not None:
        return stop_cluster_job(options, cluster_job, staging, err, result is not None, earlier)
    if result is not None and is_dataflow(options):  # Dataflow runs it without the driver
        return stop_dataflow_job(result, options, staging, err)
    return None
