"""Load and scale benchmarks; each reports ratios against a baseline run in the same command."""
