"""No credential reaches an output file or a log: the rules on realistic values, then a build handed real ones."""

import json
import logging
import subprocess

import pytest
from apache_beam.options.pipeline_options import PipelineOptions

from testbed.faulty_server import FaultPlan, FaultyServer
from testbed.http_server import FileServer
from tests.conftest import REPO, WARCFORGE, build, write_recipe
from transforms.common.secrets import REDACTED, is_secret_name, redact_argv, redact_options, redact_text
from transforms.reading.classify_records import ReadRules
from transforms.reading.resumable_file import RetryPolicy
from transforms.reading.sources import InputFile
from transforms.reading.stage import FAILED_SHARDS, ReadSettings, ReadShardFn

AZURE_CONNECTION = "DefaultEndpointsProtocol=https;AccountName=a;AccountKey=AZUREKEY789;EndpointSuffix=core.windows.net"
CREDENTIAL_FLAGS = ("--s3_access_key_id=AKIAEXAMPLE", "--s3_secret_access_key=SECRETVALUE123",
                    "--s3_session_token=TOKENVALUE456", "--azure_connection_string", AZURE_CONNECTION)
CREDENTIALS = ("AKIAEXAMPLE", "SECRETVALUE123", "TOKENVALUE456", "AZUREKEY789")

PRESIGNED_S3 = ("https://bucket.s3.us-east-1.amazonaws.com/crawl/x.warc.gz?X-Amz-Algorithm=AWS4-HMAC-SHA256"
                "&X-Amz-Credential=AKIAEXAMPLE%2F20250101%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20250101T000000Z"
                "&X-Amz-Expires=3600&X-Amz-SignedHeaders=host&X-Amz-Security-Token=TOKENVALUE456"
                "&X-Amz-Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7")
AZURE_SAS = ("https://acct.blob.core.windows.net/crawl/x.warc.gz?sv=2022-11-02&ss=b&srt=o&sp=r"
             "&se=2025-01-01T00:00:00Z&st=2024-12-31T00:00:00Z&spr=https&sig=AZURESIG%2Babc%3D")


# --- names ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", [
    "s3_access_key_id", "s3_secret_access_key", "s3_session_token", "azure_connection_string", "gbek",
    "--s3_secret_access_key", "AccountKey", "SharedAccessSignature", "Password", "X-Amz-Signature",
    "X-Amz-Credential", "X-Amz-Security-Token", "X-Goog-Signature", "AWSAccessKeyId", "sig", "access_token",
    "key", "apiKey", "private_key", "client_secret", "db_passwd", "sas_token",
])
def test_credential_names(name):
    assert is_secret_name(name)


@pytest.mark.parametrize("name", [
    "runner", "--runner", "region", "project", "temp_location", "s3_endpoint_url", "s3_region_name",
    "blob_service_endpoint", "azure_managed_identity_client_id", "service_account_email",
    "impersonate_service_account", "dataflow_kms_key", "hdfs_user", "hdfs_host", "job_name", "AccountName",
    "EndpointSuffix", "X-Amz-SignedHeaders", "X-Amz-Date", "sv", "se", "sp", "gcp_oauth_scopes", "output",
])
def test_names_that_are_not_credentials(name):
    assert not is_secret_name(name)


# --- values --------------------------------------------------------------------------------------

def test_presigned_s3_url_keeps_everything_but_its_credential_signature_and_token():
    assert redact_text(PRESIGNED_S3) == (
        "https://bucket.s3.us-east-1.amazonaws.com/crawl/x.warc.gz?X-Amz-Algorithm=AWS4-HMAC-SHA256"
        f"&X-Amz-Credential={REDACTED}&X-Amz-Date=20250101T000000Z&X-Amz-Expires=3600&X-Amz-SignedHeaders=host"
        f"&X-Amz-Security-Token={REDACTED}&X-Amz-Signature={REDACTED}")


def test_azure_sas_url_loses_only_its_signature():
    assert redact_text(AZURE_SAS) == (
        "https://acct.blob.core.windows.net/crawl/x.warc.gz?sv=2022-11-02&ss=b&srt=o&sp=r"
        f"&se=2025-01-01T00:00:00Z&st=2024-12-31T00:00:00Z&spr=https&sig={REDACTED}")


def test_userinfo_is_redacted_whole():
    assert redact_text("https://user:pa55@example.org/x.warc.gz") == f"https://{REDACTED}@example.org/x.warc.gz"
    assert redact_text("https://ghp_TOKEN@example.org/x") == f"https://{REDACTED}@example.org/x"
    assert redact_text("http://u:p@ss@host:8080/x?y=1") == f"http://{REDACTED}@host:8080/x?y=1"


@pytest.mark.parametrize("value", [
    "gs://commoncrawl/crawl-data/CC-MAIN-2024-10/segments/1/warc/x.warc.gz",
    "s3://bucket/out/key=value/part-0.parquet",
    "https://data.commoncrawl.org/crawl-data/CC-MAIN-2024-10/warc.paths.gz",
    "https://example.org/search?q=warc&page=2",
    "/tmp/sample/sample-00000.warc.gz",
    "configs/sample.yaml",
    "DirectRunner",
    "git@github.com:warcforge/warcforge.git",
    "",
])
def test_values_without_credentials_are_untouched(value):
    assert redact_text(value) == value


def test_connection_strings_lose_their_key_signature_and_password():
    assert redact_text(AZURE_CONNECTION) == (
        f"DefaultEndpointsProtocol=https;AccountName=a;AccountKey={REDACTED};EndpointSuffix=core.windows.net")
    assert redact_text("BlobEndpoint=https://a.blob.core.windows.net/;SharedAccessSignature=sv=2022-11-02&sig=S1G") \
        == f"BlobEndpoint=https://a.blob.core.windows.net/;SharedAccessSignature={REDACTED}"
    assert redact_text("Server=db;User Id=reader;Password=hunter2;") == f"Server=db;User Id=reader;Password={REDACTED};"


def test_an_error_message_keeps_its_shape():
    message = "https://h/x.warc.gz?sig=S1G: HTTP 404 Not Found (at byte 0)"
    assert redact_text(message) == f"https://h/x.warc.gz?sig={REDACTED}: HTTP 404 Not Found (at byte 0)"


# --- argv and options ----------------------------------------------------------------------------

def test_argv_flags_in_both_forms():
    argv = ["--config", "configs/sample.yaml", "--output", "gs://bucket/out", "--runner=DirectRunner",
            "--region", "us-east1", *CREDENTIAL_FLAGS, "--no_auth", "--dataflow_kms_key=projects/p/cryptoKeys/k",
            "--input", "https://user:pa55@example.org/x.warc.gz", f"--input={PRESIGNED_S3}", "--s3_session_token"]
    assert redact_argv(argv) == [
        "--config", "configs/sample.yaml", "--output", "gs://bucket/out", "--runner=DirectRunner",
        "--region", "us-east1", f"--s3_access_key_id={REDACTED}", f"--s3_secret_access_key={REDACTED}",
        f"--s3_session_token={REDACTED}", "--azure_connection_string", REDACTED, "--no_auth",
        "--dataflow_kms_key=projects/p/cryptoKeys/k", "--input", f"https://{REDACTED}@example.org/x.warc.gz",
        f"--input={redact_text(PRESIGNED_S3)}", "--s3_session_token"]


def test_beam_parses_the_flags_and_every_credential_option_is_redacted():
    options = PipelineOptions([*CREDENTIAL_FLAGS, "--runner=DirectRunner", "--s3_endpoint_url=http://minio:9000",
                               "--s3_region_name=us-east-1", "--no_auth", "--enable_hot_key_logging",
                               "--environment_options=docker_password=hunter2",
                               "--dataflow_kms_key=projects/p/locations/l/keyRings/r/cryptoKeys/k",
                               "--service_account_email=job@p.iam.gserviceaccount.com"]).get_all_options(
        drop_default=True)
    assert options["s3_secret_access_key"] == "SECRETVALUE123"
    assert options["azure_connection_string"] == AZURE_CONNECTION
    assert redact_options(options) == {
        "s3_access_key_id": REDACTED, "s3_secret_access_key": REDACTED, "s3_session_token": REDACTED,
        "azure_connection_string": REDACTED, "runner": "DirectRunner", "s3_endpoint_url": "http://minio:9000",
        "s3_region_name": "us-east-1", "no_auth": True, "enable_hot_key_logging": True,
        "environment_options": [f"docker_password={REDACTED}"],
        "dataflow_kms_key": "projects/p/locations/l/keyRings/r/cryptoKeys/k",
        "service_account_email": "job@p.iam.gserviceaccount.com",
    }


def test_redaction_leaves_its_input_alone():
    options = {"s3_secret_access_key": "SECRETVALUE123", "labels": ["token=x"]}
    redact_options(options)
    assert options == {"s3_secret_access_key": "SECRETVALUE123", "labels": ["token=x"]}


# --- a build handed real credentials -------------------------------------------------------------

def leaked(data: bytes) -> list[str]:
    return [secret for secret in CREDENTIALS if secret.encode() in data]


def test_no_published_file_holds_a_credential(sample_dir, tmp_path):
    recipe = write_recipe(tmp_path / "r.yaml", [str(sample_dir / "sample-00000.warc.gz")])
    out = tmp_path / "out"
    build(recipe, out, *CREDENTIAL_FLAGS)
    files = [p for p in sorted(out.rglob("*")) if p.is_file()]
    assert "run_info.json" in {p.name for p in files}
    assert {p.relative_to(out).as_posix(): leaked(p.read_bytes()) for p in files if leaked(p.read_bytes())} == {}
    run_info = json.loads((out / "run_info.json").read_text())
    assert run_info["pipeline_options"] == {"s3_access_key_id": REDACTED, "s3_secret_access_key": REDACTED,
                                            "s3_session_token": REDACTED, "azure_connection_string": REDACTED}
    assert run_info["argv"][:4] == ["--config", str(recipe), "--output", str(out)]
    assert run_info["argv"][4:] == [f"--s3_access_key_id={REDACTED}", f"--s3_secret_access_key={REDACTED}",
                                    f"--s3_session_token={REDACTED}", "--azure_connection_string", REDACTED]


def test_no_log_line_or_message_holds_a_credential(sample_dir, tmp_path):
    recipe = write_recipe(tmp_path / "r.yaml", ["replaced-by-input.warc.gz"])
    with FileServer(sample_dir) as server:  # the input as a presigned URL: the progress line names it
        presigned = f"{server.url}/sample-00000.warc.gz?X-Amz-Credential=AKIAEXAMPLE%2Fx&X-Amz-Signature=SECRETVALUE123"
        result = subprocess.run([WARCFORGE, "build", "--config", str(recipe), "--input", presigned,
                                 "--output", str(tmp_path / "out"), *CREDENTIAL_FLAGS],
                                capture_output=True, cwd=REPO, timeout=300)
    assert result.returncode == 0, result.stderr.decode(errors="replace")
    assert f"warcforge: read {server.url}/sample-00000.warc.gz?".encode() in result.stderr
    assert leaked(result.stdout + result.stderr) == []


class Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


def test_a_skipped_shard_is_logged_and_listed_without_its_signature(tmp_path):
    settings = ReadSettings(ReadRules(), RetryPolicy(max_attempts=2, initial_backoff_s=0.01, max_backoff_s=0.01,
                                                     min_retry_interval_s=0.0), skip_failed_shards=True)
    reader, collect = ReadShardFn(settings), Collect()
    logger = logging.getLogger("warcforge.read")
    level = logger.level
    logger.addHandler(collect)
    logger.setLevel(logging.INFO)
    try:
        with FaultyServer(tmp_path, FaultPlan(seed=1, faults_per_file=0)) as server:
            url = f"{server.url}/gone.warc.gz?X-Amz-Credential=AKIAEXAMPLE%2Fx&X-Amz-Signature=SECRETVALUE123"
            reader.setup()
            outputs = list(reader.process(InputFile(url=url, size=None)))
    finally:
        logger.removeHandler(collect)
        logger.setLevel(level)
    (failed,) = [o.value for o in outputs if getattr(o, "tag", None) == FAILED_SHARDS]
    assert failed["url"] == f"{server.url}/gone.warc.gz?X-Amz-Credential={REDACTED}&X-Amz-Signature={REDACTED}"
    assert [line.split(":")[0] for line in collect.lines] == ["shard skipped", "read http"]
    assert leaked("\n".join(collect.lines).encode()) == []


def test_an_error_message_never_quotes_a_urls_password_even_without_its_scheme():
    from transforms.common.secrets import redact_message

    url = "s3://AKIAXX:SEKRET@bucket/x"
    message = f'cannot read {url}: Invalid bucket name "AKIAXX:SEKRET@bucket": must match\n  the regex'
    assert redact_message(message, url) == ('cannot read s3://<redacted>@bucket/x: Invalid bucket name '
                                            '"<redacted>@bucket": must match the regex')
