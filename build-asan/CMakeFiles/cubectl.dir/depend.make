# Empty dependencies file for cubectl.
# This may be replaced when dependencies are built.
