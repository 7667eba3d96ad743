# Empty custom commands generated dependencies file for pass_bpf.
# This may be replaced when dependencies are built.
