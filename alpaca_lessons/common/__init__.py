"""Pieces every stage uses: the append-only store, statistics, plots, run provenance, paths, the environment report."""
