# Empty dependencies file for cubenet.
# This may be replaced when dependencies are built.
