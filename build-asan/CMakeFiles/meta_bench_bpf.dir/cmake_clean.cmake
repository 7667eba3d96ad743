file(REMOVE_RECURSE
  "CMakeFiles/meta_bench_bpf"
  "meta_bench.bpf.o"
)

# Per-language clean rules from dependency scanning.
foreach(lang )
  include(CMakeFiles/meta_bench_bpf.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
