file(REMOVE_RECURSE
  "CMakeFiles/mono_bpf"
  "mono.bpf.o"
)

# Per-language clean rules from dependency scanning.
foreach(lang )
  include(CMakeFiles/mono_bpf.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
