# Empty dependencies file for cubenet-cni.
# This may be replaced when dependencies are built.
