file(REMOVE_RECURSE
  "CMakeFiles/trafficgen_bpf"
  "trafficgen.bpf.o"
)

# Per-language clean rules from dependency scanning.
foreach(lang )
  include(CMakeFiles/trafficgen_bpf.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
