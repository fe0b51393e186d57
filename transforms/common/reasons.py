"""Stage and reason names: one name per decision, used as the Beam counter, the dead-letter
``reason`` value and the key in ``stats.json``.

Every stage counts ``in`` (elements that reached it) and ``out`` (elements it passed on); every
element that went in and did not come out is counted under exactly one reason of that stage.
"""

# Stages, in pipeline order.
READ = "read"
EXTRACT = "extract"
FILTER = "filter"  # reasons are the rule modules' own: url_*, language_*, gopher_*, c4_*, fineweb_*
C4_LINES = "c4_lines"  # lines C4's line rules removed from kept documents, per rule (not documents)
DEDUP_EXACT = "dedup_exact"
DEDUP_URL = "dedup_url"  # one capture per normalized URL (dedup.url)
NEAR_DEDUP = "near_dedup"  # MinHash LSH clusters (dedup.near)
CROSS_CRAWL = "dedup_cross_crawl"  # documents published in an earlier crawl (refresh.cross_crawl_dedup)
PROGRESS = "progress"  # live figures, not decisions: files_done, bytes_read, <stage>_usec (never in a manifest)
FILES_DONE = "files_done"
BYTES_READ = "bytes_read"
POINTERS = "pointers"  # a pointer build's pointer files and rows (namespace and counter); not in a full build
MISSING = "missing"  # materialize: pointers that brought no document back
MATERIALIZE = "materialize"  # warcforge materialize: pointers, records fetched, documents matched, missing_*
PII = "pii"  # emails, ips, documents_changed: replacements, not drops
WRITE = "write"
WATCH = "watch"  # warcforge watch: polls, files arrived/done/failing, batches published, lag
SEEN_BEFORE = "seen_before"  # a text published in an earlier batch of the watch (in stage dedup_exact)
# Not a stage: published documents per language (the language filter's label), one counter per language.
LANGUAGES = "languages"

IN = "in"
OUT = "out"

# read: records that are not web-page content.
RECORD_TYPE_PREFIX = "record_type_"  # + warcinfo, request, metadata, revisit, resource, ...
NON_HTTP_RESPONSE = "non_http_response"  # e.g. dns: records, or a response with no HTTP head
HTTP_STATUS_PREFIX = "http_status_"  # + 1xx, 3xx, 4xx, 5xx
NOT_HTML = "not_html"
PAYLOAD_TOO_LARGE = "payload_too_large"
WARC_TRUNCATED = "warc_truncated"  # the crawler cut the payload (WARC-Truncated header)
# read: broken input, also written to the dead-letter output.
INVALID_HTTP_HEAD = "invalid_http_head"  # a response whose HTTP status line or head does not parse
TRUNCATED_PAYLOAD = "truncated_payload"
CONTENT_DECODE_ERROR = "content_decode_error"
RECORD_ERROR = "record_error"
SHARD_READ_ERROR = "shard_read_error"
SHARD_FAILED = "shard_failed"  # the source still failed after its retries (on_shard_failure: skip)
SHARDS = "shards"
# read: informational, not a drop: pages kept although cut short (read.keep_truncated).
TRUNCATED_KEPT = "truncated_kept"

# extract
EMPTY_TEXT = "empty_text"
EXTRACT_ERROR = "extract_error"
EXTRACT_TIMEOUT = "extract_timeout"

# dedup_exact, dedup_url, near_dedup
EXACT_DUPLICATE = "exact_duplicate"
URL_DUPLICATE = "url_duplicate"
NEAR_DUPLICATE = "near_duplicate"
HOT_BUCKETS = "hot_buckets"  # near_dedup: buckets too large to group, joined by side input
CROSS_CRAWL_DUPLICATE = "cross_crawl_duplicate"
INDEX_KEYS = "index_keys"  # dedup_cross_crawl: keys of this crawl's documents, for later crawls

# write
FILES = "files"
DOCUMENTS = "documents"
DEAD_LETTERS = "dead_letters"
REJECTED = "rejected"

# Reasons whose element goes to the dead-letter output as well as to its counter.
DEAD_LETTER_REASONS = frozenset(
    {INVALID_HTTP_HEAD, TRUNCATED_PAYLOAD, CONTENT_DECODE_ERROR, RECORD_ERROR, SHARD_READ_ERROR, SHARD_FAILED,
     EXTRACT_ERROR, EXTRACT_TIMEOUT}
)
# Counters outside the in = out + reasons balance: they count files, or describe kept elements.
NOT_DROPS = frozenset({IN, OUT, SHARDS, SHARD_READ_ERROR, SHARD_FAILED, TRUNCATED_KEPT, FILES, DOCUMENTS,
                       DEAD_LETTERS, REJECTED, HOT_BUCKETS, INDEX_KEYS})


def record_type_reason(record_type: str) -> str:
    return f"{RECORD_TYPE_PREFIX}{record_type}"


def http_status_reason(status: int | None) -> str:
    if status is None or not 100 <= status <= 599:
        return INVALID_HTTP_HEAD
    return f"{HTTP_STATUS_PREFIX}{status // 100}xx"


# watch
POLLS = "polls"
POLL_FAILED = "poll_failed"
POLLS_SKIPPED = "polls_skipped"  # ticks from the past while a started or restored job catches up
FILES_ARRIVED = "files_arrived"
# FILES_DONE (above): files read; in the watch namespace, files published
FILES_FAILING = "files_failing"
FILES_GIVEN_UP = "files_given_up"
BATCHES_PUBLISHED = "batches_published"
BATCHES_ALREADY_PUBLISHED = "batches_already_published"
LAG_MS = "lag_ms"  # a distribution: from a file's arrival to its batch's publish
