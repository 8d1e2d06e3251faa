"""Compatibility check: mlGeNN's examples and tutorials run on irsnn (see run_mlgenn_examples)."""
