"""Self-Instruct's own pipeline (Wang et al. 2022), beside Alpaca's simplification in ``generation.pipeline``.

``pipeline.generate_self_instruct(output, teacher, SelfInstructConfig(...))`` runs it; ``prompts`` builds its
three prompts, ``parse`` reads the replies and applies its filters, ``compare`` tabulates what Alpaca changed.
(Nothing is imported here: the offline teacher reads ``prompts`` without pulling in the pipeline.)
"""
