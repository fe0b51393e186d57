"""Airflow DAG: ``warcforge refresh`` every day, publishing each new Common Crawl crawl once.

A plain BashOperator runs the CLI, on a worker where warcforge is installed (the worker image of
deploy/docker, or any machine with ``pip install warcforge``). The Apache Beam provider's
BeamRunPythonPipelineOperator is not used: it starts a pipeline file with a Beam runner's options,
while ``warcforge refresh`` is a driver that lists crawls, takes a lease and runs one pipeline per
new crawl itself; and on Airflow 3 that operator also needs the Google provider (about 2 GB) even
for Flink. The refresh's own lease on ROOT is the guard against overlapping runs; max_active_runs=1
only spares a second run its refusal.

Set the three params in the UI or with `airflow dags trigger --conf`, or edit the defaults.
Exit status 2 (a user error, or ROOT held by another refresh) and 1 fail the task; 3 (published
with skipped inputs) fails it too, so that someone looks at failed_shards.
"""

from datetime import datetime, timedelta

from airflow.providers.standard.operators.bash import BashOperator
from airflow.sdk import DAG, Param

REFRESH = (
    "warcforge refresh --config '{{ params.config }}' --output '{{ params.output }}' --quiet "
    "{{ params.beam_options }}"
)

with DAG(
    dag_id="warcforge_refresh",
    description="Build and publish each new Common Crawl crawl with a warcforge refresh recipe",
    schedule="17 5 * * *",
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,
    default_args={"retries": 0, "execution_timeout": timedelta(days=3)},
    params={
        "config": Param("gs://warcforge-runs/recipes/cc-refresh.yaml", type="string",
                        description="the refresh recipe (a bucket URL or a path on the worker)"),
        "output": Param("gs://warcforge-datasets/cc-refresh", type="string", description="ROOT"),
        "beam_options": Param(
            "--runner=PortableRunner --job_endpoint=warcforge-beam-job-server:8099 "
            "--artifact_endpoint=warcforge-beam-job-server:8098 --flink_rest_url=http://warcforge-rest:8081 "
            "--environment_type=EXTERNAL "
            "--environment_config=localhost:50000 --parallelism=32",
            type="string", description="Beam pipeline options: here the Flink cluster of deploy/flink"),
    },
    tags=["warcforge"],
) as dag:
    BashOperator(task_id="refresh", bash_command=REFRESH)
