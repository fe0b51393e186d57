"""What the tests and the benchmarks both use: loopback servers, a memory cap, generated corpora.

Not part of the product (not installed with it); tests and benchmarks import it, never each other.
"""
