"""``python -m alpaca_lessons.cli``."""

import sys

from alpaca_lessons.cli import main

sys.exit(main())
