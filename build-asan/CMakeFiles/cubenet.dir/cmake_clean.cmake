file(REMOVE_RECURSE
  "CMakeFiles/cubenet.dir/core/cube.c.o"
  "CMakeFiles/cubenet.dir/core/cube.c.o.d"
  "CMakeFiles/cubenet.dir/core/cube_pin.c.o"
  "CMakeFiles/cubenet.dir/core/cube_pin.c.o.d"
  "CMakeFiles/cubenet.dir/core/cube_stats.c.o"
  "CMakeFiles/cubenet.dir/core/cube_stats.c.o.d"
  "CMakeFiles/cubenet.dir/core/cube_types.c.o"
  "CMakeFiles/cubenet.dir/core/cube_types.c.o.d"
  "CMakeFiles/cubenet.dir/core/host_device.c.o"
  "CMakeFiles/cubenet.dir/core/host_device.c.o.d"
  "CMakeFiles/cubenet.dir/core/lb_chain.c.o"
  "CMakeFiles/cubenet.dir/core/lb_chain.c.o.d"
  "CMakeFiles/cubenet.dir/core/maglev.c.o"
  "CMakeFiles/cubenet.dir/core/maglev.c.o.d"
  "CMakeFiles/cubenet.dir/core/maglev_map.c.o"
  "CMakeFiles/cubenet.dir/core/maglev_map.c.o.d"
  "CMakeFiles/cubenet.dir/core/map_sync.c.o"
  "CMakeFiles/cubenet.dir/core/map_sync.c.o.d"
  "CMakeFiles/cubenet.dir/core/netdev.c.o"
  "CMakeFiles/cubenet.dir/core/netdev.c.o.d"
  "CMakeFiles/cubenet.dir/core/netdev_attach.c.o"
  "CMakeFiles/cubenet.dir/core/netdev_attach.c.o.d"
  "libcubenet.a"
  "libcubenet.pdb"
)

# Per-language clean rules from dependency scanning.
foreach(lang C)
  include(CMakeFiles/cubenet.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
