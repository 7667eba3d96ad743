file(REMOVE_RECURSE
  "CMakeFiles/test_nat.dir/datapath/test_nat.c.o"
  "CMakeFiles/test_nat.dir/datapath/test_nat.c.o.d"
  "test_nat"
  "test_nat.pdb"
)

# Per-language clean rules from dependency scanning.
foreach(lang C)
  include(CMakeFiles/test_nat.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
