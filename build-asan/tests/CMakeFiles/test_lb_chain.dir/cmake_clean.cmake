file(REMOVE_RECURSE
  "CMakeFiles/test_lb_chain.dir/datapath/test_lb_chain.c.o"
  "CMakeFiles/test_lb_chain.dir/datapath/test_lb_chain.c.o.d"
  "test_lb_chain"
  "test_lb_chain.pdb"
)

# Per-language clean rules from dependency scanning.
foreach(lang C)
  include(CMakeFiles/test_lb_chain.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
