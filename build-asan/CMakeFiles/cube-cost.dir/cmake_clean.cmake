file(REMOVE_RECURSE
  "CMakeFiles/cube-cost.dir/benchmarks/cube_cost.c.o"
  "CMakeFiles/cube-cost.dir/benchmarks/cube_cost.c.o.d"
  "cube-cost"
  "cube-cost.pdb"
)

# Per-language clean rules from dependency scanning.
foreach(lang C)
  include(CMakeFiles/cube-cost.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
