# Empty custom commands generated dependencies file for trafficgen_bpf.
# This may be replaced when dependencies are built.
