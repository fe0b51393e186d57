"""Options of Flink's job server that a streaming watch needs, declared so Beam's parser knows them.

The Python SDK declares none of Flink's checkpointing options; the job server reads them from the
pipeline options by name. Declared here, ``warcforge watch --checkpointing_interval=5000`` is
accepted, checked as a number, and travels to the job server with the other options.
"""

from apache_beam.options.pipeline_options import PipelineOptions


class FlinkStreamingOptions(PipelineOptions):
    @classmethod
    def _add_argparse_args(cls, parser) -> None:  # noqa: ANN001 - Beam's argument parser
        parser.add_argument("--checkpointing_interval", type=int, default=None,
                            help="Flink: milliseconds between two checkpoints (streaming).")
        parser.add_argument("--savepoint_path", default=None,
                            help="Flink: start the job from this savepoint (or retained checkpoint).")
        parser.add_argument("--state_backend", default=None, choices=["rocksdb", "filesystem", "hashmap"],
                            help="Flink: where keyed state lives (rocksdb for state larger than memory).")
        parser.add_argument("--state_backend_storage_path", default=None,
                            help="Flink: where checkpoints of the state backend are written (a bucket URL).")
        parser.add_argument("--externalized_checkpoints_enabled", type=lambda v: v.lower() == "true", default=None,
                            help="Flink: keep checkpoints when the job is cancelled (true/false).")
        parser.add_argument("--number_of_execution_retries", type=int, default=None,
                            help="Flink: restarts after a failure before the job fails.")
        parser.add_argument("--execution_retry_delay", type=int, default=None,
                            help="Flink: milliseconds between two restarts.")
        parser.add_argument("--max_bundle_size", type=int, default=None,
                            help="Flink: elements in one bundle (the job server's default: 1000).")
        parser.add_argument("--max_bundle_time_mills", type=int, default=None,
                            help="Flink: milliseconds a bundle stays open (the job server's default: 1000).")
