# Empty dependencies file for test_maglev.
# This may be replaced when dependencies are built.
