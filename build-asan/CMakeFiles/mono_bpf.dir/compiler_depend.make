# Empty custom commands generated dependencies file for mono_bpf.
# This may be replaced when dependencies are built.
