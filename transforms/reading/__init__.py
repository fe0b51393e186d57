"""Reading: input files in, HTML pages (and WET texts) out, every other record counted.

Rules: ``sources`` (paths, globs, URLs and crawls resolved to files) and ``common_crawl`` (crawl
ids, paths files, crawl lists); ``resumable_file`` (a file that retries and resumes with ranges)
over ``byte_stream``; ``gzip_members`` (decompression that keeps each record's position);
``record_views`` (one record, whichever library parsed it); ``classify_records`` (each record
decided once); ``html_detect`` and ``http_payload`` (is it HTML; undo stored HTTP encodings);
``record_fetch`` (a record fetched again from its provenance). Beam: ``stage.ReadWarcShards``.
"""
