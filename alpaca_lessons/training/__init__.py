"""Supervised fine-tuning (lesson 06): masked examples and batches, the training loop, FSDP, the memory calculator."""
