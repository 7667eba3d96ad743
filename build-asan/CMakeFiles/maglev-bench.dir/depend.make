# Empty dependencies file for maglev-bench.
# This may be replaced when dependencies are built.
