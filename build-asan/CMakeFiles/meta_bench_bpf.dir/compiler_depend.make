# Empty custom commands generated dependencies file for meta_bench_bpf.
# This may be replaced when dependencies are built.
