"""Evaluation (lessons 07-08): the watermark, pairs of system outputs, win rates, blind judging, the LLM judge."""
