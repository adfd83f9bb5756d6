"""alpaca-lessons: the Stanford Alpaca recipe, lesson by lesson, with the code that runs it at scale."""

__version__ = "0.1.0"
