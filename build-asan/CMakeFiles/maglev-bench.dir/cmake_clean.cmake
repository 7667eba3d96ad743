file(REMOVE_RECURSE
  "CMakeFiles/maglev-bench.dir/benchmarks/maglev_bench.c.o"
  "CMakeFiles/maglev-bench.dir/benchmarks/maglev_bench.c.o.d"
  "maglev-bench"
  "maglev-bench.pdb"
)

# Per-language clean rules from dependency scanning.
foreach(lang C)
  include(CMakeFiles/maglev-bench.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
