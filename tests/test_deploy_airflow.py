"""The Airflow DAG in deploy/airflow loads in Airflow itself, and the command it runs is one
`warcforge refresh` accepts.

Airflow's pins must not move Beam's, so it lives in its own virtual environment, made once per
Airflow release in ~/.cache/warcforge (about 30 s from the package index) and kept between runs.
"""

import json
import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from beam_jobs.build_args import parse_with_beam_options
from beam_jobs.refresh import build_parser
from tests.conftest import CACHE, REPO

AIRFLOW = "3.3.2"

LOAD_DAGS = """
import json, sys
from airflow.models.dagbag import DagBag
from jinja2 import Template
bag = DagBag(dag_folder=sys.argv[1])
dags = {}
for dag_id, dag in bag.dags.items():
    task = dag.get_task("refresh")
    params = {name: dag.params[name] for name in dag.params}
    dags[dag_id] = {"schedule": str(dag.schedule) if hasattr(dag, "schedule") else None,
                    "max_active_runs": dag.max_active_runs,
                    "command": Template(task.bash_command).render(params=params)}
print(json.dumps({"import_errors": {k: str(v) for k, v in bag.import_errors.items()}, "dags": dags}))
"""


@pytest.fixture(scope="module")
def airflow_python() -> Path:
    venv = CACHE / f"airflow-{AIRFLOW}"
    python = venv / "bin" / "python"
    if not (venv / ".installed").exists():
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], check=True, timeout=120)
        install = subprocess.run([str(python), "-m", "pip", "install", "--quiet", f"apache-airflow=={AIRFLOW}"],
                                 capture_output=True, text=True, timeout=900)
        if install.returncode != 0:
            pytest.fail(f"apache-airflow=={AIRFLOW} does not install: {install.stderr[-2000:]}")
        (venv / ".installed").touch()
    return python


def test_the_refresh_dag_loads_without_import_errors_and_runs_a_valid_refresh(airflow_python, tmp_path):
    env = {**os.environ, "AIRFLOW_HOME": str(tmp_path), "AIRFLOW__CORE__LOAD_EXAMPLES": "False"}
    result = subprocess.run([str(airflow_python), "-c", LOAD_DAGS, str(REPO / "deploy" / "airflow")],
                            capture_output=True, text=True, timeout=300, env=env)
    assert result.returncode == 0, result.stderr[-3000:]
    loaded = json.loads(result.stdout.strip().splitlines()[-1])
    assert loaded["import_errors"] == {}
    dag = loaded["dags"]["warcforge_refresh"]
    assert dag["max_active_runs"] == 1
    command = shlex.split(dag["command"])
    assert command[:2] == ["warcforge", "refresh"]
    args, beam_args = parse_with_beam_options(build_parser(), command[2:])
    assert args.config.startswith("gs://") and args.output.startswith("gs://")
    assert "--runner=PortableRunner" in beam_args
    assert "--flink_rest_url=http://warcforge-rest:8081" in beam_args  # where a stopped build cancels its job
