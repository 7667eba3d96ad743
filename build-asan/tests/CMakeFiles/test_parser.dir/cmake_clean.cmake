file(REMOVE_RECURSE
  "CMakeFiles/test_parser.dir/datapath/test_parser.c.o"
  "CMakeFiles/test_parser.dir/datapath/test_parser.c.o.d"
  "test_parser"
  "test_parser.pdb"
)

# Per-language clean rules from dependency scanning.
foreach(lang C)
  include(CMakeFiles/test_parser.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
