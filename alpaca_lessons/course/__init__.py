"""The course itself: exercises and their checks, the reference answers the notebooks test students against."""
