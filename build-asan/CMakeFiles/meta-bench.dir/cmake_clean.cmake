file(REMOVE_RECURSE
  "CMakeFiles/meta-bench.dir/benchmarks/meta_bench.c.o"
  "CMakeFiles/meta-bench.dir/benchmarks/meta_bench.c.o.d"
  "meta-bench"
  "meta-bench.pdb"
)

# Per-language clean rules from dependency scanning.
foreach(lang C)
  include(CMakeFiles/meta-bench.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
