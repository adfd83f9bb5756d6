"""How much memory fine-tuning needs, why Alpaca sharded a 7B model over 4-8 80GB GPUs, and what it costs.

* ``estimate``: the peak memory of a training step by part (weights, gradients, optimizer, activations,
  logits), per GPU, and the fewest GPUs it fits on;
* ``reported``: setups users ran in 2023 and whether they ran out of memory, the estimate's test cases;
* ``flops``: training FLOPs, model FLOPs utilisation, hours and dollars;
* ``measure``: the estimate against peaks measured in a fresh CPU process or on one GPU;
* ``inference``: running a model instead: its weights in a storage format plus the KV cache (lesson 09).
"""
