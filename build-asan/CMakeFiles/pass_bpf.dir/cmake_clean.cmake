file(REMOVE_RECURSE
  "CMakeFiles/pass_bpf"
  "pass.bpf.o"
)

# Per-language clean rules from dependency scanning.
foreach(lang )
  include(CMakeFiles/pass_bpf.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
