"""Thin ipywidgets views over the package's functions; the logic they show is tested without widgets.

The inference playground (``ui.playground``) is imported from its module: it needs torch.
"""

from alpaca_lessons.ui.annotator import annotator
from alpaca_lessons.ui.pairwise import pairwise_judge
from alpaca_lessons.ui.prompt_builder import prompt_builder
from alpaca_lessons.ui.seed_browser import seed_browser

__all__ = ["annotator", "pairwise_judge", "prompt_builder", "seed_browser"]
