# Empty custom commands generated dependencies file for cube_skeletons.
# This may be replaced when dependencies are built.
