"""The embedded sample: deterministic WARC shards that look like a Common Crawl shard."""
