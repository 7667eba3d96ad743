# Empty compiler generated dependencies file for test_parser.
# This may be replaced when dependencies are built.
