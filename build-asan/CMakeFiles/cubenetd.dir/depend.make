# Empty dependencies file for cubenetd.
# This may be replaced when dependencies are built.
