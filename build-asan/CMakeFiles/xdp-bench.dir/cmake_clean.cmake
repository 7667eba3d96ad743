file(REMOVE_RECURSE
  "CMakeFiles/xdp-bench.dir/benchmarks/xdp_bench.c.o"
  "CMakeFiles/xdp-bench.dir/benchmarks/xdp_bench.c.o.d"
  "xdp-bench"
  "xdp-bench.pdb"
)

# Per-language clean rules from dependency scanning.
foreach(lang C)
  include(CMakeFiles/xdp-bench.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
