# Empty dependencies file for cubenet_test.
# This may be replaced when dependencies are built.
