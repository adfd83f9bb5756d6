"""Causal language models: build or load one with its tokenizer, and generate with the Alpaca template."""
