"""The import contracts in pyproject.toml have teeth: each wrong import below breaks them, named.

`make test` runs `lint-imports` on the tree as it is; here a copy of the tree gets one wrong
import at a time, and the contracts must fail and name the import that broke them.
"""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO

LINT_IMPORTS = str(Path(sys.executable).with_name("lint-imports"))
PACKAGES = ["beam_jobs", "transforms", "sample_crawl", "testbed", "tests", "bench"]


@pytest.fixture
def tree_copy(tmp_path: Path) -> Path:
    for package in PACKAGES:
        shutil.copytree(REPO / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(REPO / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def lint_imports(tree: Path) -> subprocess.CompletedProcess:
    return subprocess.run([LINT_IMPORTS, "--no-cache"], cwd=tree, capture_output=True, text=True, timeout=120)


def test_the_tree_as_committed_keeps_every_contract(tree_copy: Path):
    result = lint_imports(tree_copy)
    assert result.returncode == 0, result.stdout
    assert "0 broken" in result.stdout


@pytest.mark.parametrize(("module", "wrong_import", "named"), [
    ("transforms/dedup/minhash.py", "import apache_beam", "transforms.dedup.minhash -> apache_beam"),
    ("transforms/reading/gzip_members.py", "from apache_beam.metrics import Metrics",
     "transforms.reading.gzip_members -> apache_beam"),
    ("transforms/writing/schema.py", "from transforms.writing import stage",
     "transforms.writing.schema -> transforms.writing.stage"),
    ("transforms/extraction/page_text.py", "from transforms.dedup import normalize",
     "transforms.extraction.page_text -> transforms.dedup.normalize"),
    ("transforms/common/records.py", "from transforms.reading import sources",
     "transforms.common.records -> transforms.reading.sources"),
    ("transforms/reading/sources.py", "import beam_jobs.recipe", "transforms.reading.sources -> beam_jobs.recipe"),
    ("beam_jobs/pipeline.py", "import testbed.http_server", "beam_jobs.pipeline -> testbed.http_server"),
    ("bench/corpus.py", "import tests.conftest", "bench.corpus -> tests.conftest"),
])
def test_a_wrong_import_breaks_a_contract_and_is_named(tree_copy: Path, module: str, wrong_import: str,
                                                       named: str):
    path = tree_copy / module
    path.write_text(path.read_text() + f"\n{wrong_import}  # noqa\n")
    result = lint_imports(tree_copy)
    assert result.returncode == 1, result.stdout
    assert named in result.stdout


def test_a_module_loose_in_transforms_breaks_the_stage_contract(tree_copy: Path):
    (tree_copy / "transforms" / "helpers.py").write_text('"""Belongs to no stage."""\n')
    result = lint_imports(tree_copy)
    assert result.returncode == 1 and "transforms.helpers" in result.stdout
