"""Thin ipywidgets views over the package's functions; the logic they show is tested without widgets."""

from .annotator import annotator
from .prompt_builder import prompt_builder
from .seed_browser import seed_browser

__all__ = ["annotator", "prompt_builder", "seed_browser"]
