
# Consider dependencies only in project.
set(CMAKE_DEPENDS_IN_PROJECT_ONLY OFF)

# The set of languages for which implicit dependencies are needed:
set(CMAKE_DEPENDS_LANGUAGES
  )

# The set of dependency files which are needed:
set(CMAKE_DEPENDS_DEPENDENCY_FILES
  "/work/main/core/cube.c" "CMakeFiles/cubenet.dir/core/cube.c.o" "gcc" "CMakeFiles/cubenet.dir/core/cube.c.o.d"
  "/work/main/core/cube_pin.c" "CMakeFiles/cubenet.dir/core/cube_pin.c.o" "gcc" "CMakeFiles/cubenet.dir/core/cube_pin.c.o.d"
  "/work/main/core/cube_stats.c" "CMakeFiles/cubenet.dir/core/cube_stats.c.o" "gcc" "CMakeFiles/cubenet.dir/core/cube_stats.c.o.d"
  "/work/main/core/cube_types.c" "CMakeFiles/cubenet.dir/core/cube_types.c.o" "gcc" "CMakeFiles/cubenet.dir/core/cube_types.c.o.d"
  "/work/main/core/host_device.c" "CMakeFiles/cubenet.dir/core/host_device.c.o" "gcc" "CMakeFiles/cubenet.dir/core/host_device.c.o.d"
  "/work/main/core/lb_chain.c" "CMakeFiles/cubenet.dir/core/lb_chain.c.o" "gcc" "CMakeFiles/cubenet.dir/core/lb_chain.c.o.d"
  "/work/main/core/maglev.c" "CMakeFiles/cubenet.dir/core/maglev.c.o" "gcc" "CMakeFiles/cubenet.dir/core/maglev.c.o.d"
  "/work/main/core/maglev_map.c" "CMakeFiles/cubenet.dir/core/maglev_map.c.o" "gcc" "CMakeFiles/cubenet.dir/core/maglev_map.c.o.d"
  "/work/main/core/map_sync.c" "CMakeFiles/cubenet.dir/core/map_sync.c.o" "gcc" "CMakeFiles/cubenet.dir/core/map_sync.c.o.d"
  "/work/main/core/netdev.c" "CMakeFiles/cubenet.dir/core/netdev.c.o" "gcc" "CMakeFiles/cubenet.dir/core/netdev.c.o.d"
  "/work/main/core/netdev_attach.c" "CMakeFiles/cubenet.dir/core/netdev_attach.c.o" "gcc" "CMakeFiles/cubenet.dir/core/netdev_attach.c.o.d"
  )

# Targets to which this target links.
set(CMAKE_TARGET_LINKED_INFO_FILES
  )

# Fortran module output directory.
set(CMAKE_Fortran_TARGET_MODULE_DIR "")
