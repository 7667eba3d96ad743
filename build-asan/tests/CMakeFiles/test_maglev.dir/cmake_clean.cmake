file(REMOVE_RECURSE
  "CMakeFiles/test_maglev.dir/unit/test_maglev.c.o"
  "CMakeFiles/test_maglev.dir/unit/test_maglev.c.o.d"
  "test_maglev"
  "test_maglev.pdb"
)

# Per-language clean rules from dependency scanning.
foreach(lang C)
  include(CMakeFiles/test_maglev.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
