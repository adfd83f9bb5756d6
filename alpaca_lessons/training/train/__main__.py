"""``python -m alpaca_lessons.training.train ...``, and the same under ``torchrun --nproc_per_node=N -m ...``."""

import sys

from alpaca_lessons.training.train.launch import main

sys.exit(main())
