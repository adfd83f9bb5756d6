"""Thin ipywidgets views over the package's functions; the logic they show is tested without widgets.

The inference playground (``ui.playground``) is imported from its module: it needs torch.
"""

from .annotator import annotator
from .pairwise import pairwise_judge
from .prompt_builder import prompt_builder
from .seed_browser import seed_browser

__all__ = ["annotator", "pairwise_judge", "prompt_builder", "seed_browser"]
