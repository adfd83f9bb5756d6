"""``python -m alpaca_lessons.cli``."""

import sys

from . import main

sys.exit(main())
