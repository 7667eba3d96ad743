file(REMOVE_RECURSE
  "CMakeFiles/cubenet_test.dir/lib/harness.c.o"
  "CMakeFiles/cubenet_test.dir/lib/harness.c.o.d"
  "CMakeFiles/cubenet_test.dir/lib/pkt.c.o"
  "CMakeFiles/cubenet_test.dir/lib/pkt.c.o.d"
  "CMakeFiles/cubenet_test.dir/lib/test.c.o"
  "CMakeFiles/cubenet_test.dir/lib/test.c.o.d"
  "libcubenet_test.a"
  "libcubenet_test.pdb"
)

# Per-language clean rules from dependency scanning.
foreach(lang C)
  include(CMakeFiles/cubenet_test.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
