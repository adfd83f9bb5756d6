"""Analysis of instruction data (lessons 04-05): verb-noun diversity, validity sampling, the artifact audit."""
