file(REMOVE_RECURSE
  "CMakeFiles/test_map_sync.dir/datapath/test_map_sync.c.o"
  "CMakeFiles/test_map_sync.dir/datapath/test_map_sync.c.o.d"
  "test_map_sync"
  "test_map_sync.pdb"
)

# Per-language clean rules from dependency scanning.
foreach(lang C)
  include(CMakeFiles/test_map_sync.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
