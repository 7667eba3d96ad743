# Empty dependencies file for cubenet-client.
# This may be replaced when dependencies are built.
