# Empty dependencies file for test_map_sync.
# This may be replaced when dependencies are built.
