"""An SDK worker may import warcforge's modules for the first time from several threads at once.

A Flink job's SDK worker unpickles the DoFns of stages that run side by side on its threads, each
import starting from a different module. Imported that way, fastwarc failed about half the time
("No module named 'fastwarc.warc'", seen on the loopback Flink cluster) until the modules imported
its package before its submodules (transforms/reading/record_views.py says why).
"""

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TRIALS = 8

RACE = """
import sys, threading
import apache_beam.runners.worker.sdk_worker  # what an SDK worker has imported before its first bundle
modules = sys.argv[1:]
start = threading.Barrier(len(modules))
errors = []
def load(name):
    start.wait()
    try:
        __import__(name)
    except Exception as error:
        errors.append(f"{name}: {error!r}")
threads = [threading.Thread(target=load, args=(name,)) for name in modules]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
print("; ".join(errors))
"""

MODULES = ["transforms.reading.gzip_members", "transforms.reading.record_views", "transforms.reading.record_fetch",
           "transforms.extraction.stage", "transforms.writing.stage"]


def test_the_stage_modules_import_from_several_threads_at_once_in_a_fresh_worker():
    for _ in range(TRIALS):
        done = subprocess.run([sys.executable, "-c", RACE, *MODULES], cwd=REPO, capture_output=True, text=True,
                              timeout=120, check=True)
        assert done.stdout.strip() == ""
