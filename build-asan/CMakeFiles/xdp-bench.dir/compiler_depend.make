# Empty compiler generated dependencies file for xdp-bench.
# This may be replaced when dependencies are built.
