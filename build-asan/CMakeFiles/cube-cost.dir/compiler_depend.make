# Empty compiler generated dependencies file for cube-cost.
# This may be replaced when dependencies are built.
