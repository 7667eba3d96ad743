# Empty dependencies file for meta-bench.
# This may be replaced when dependencies are built.
