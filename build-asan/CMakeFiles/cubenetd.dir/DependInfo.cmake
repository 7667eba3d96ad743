
# Consider dependencies only in project.
set(CMAKE_DEPENDS_IN_PROJECT_ONLY OFF)

# The set of languages for which implicit dependencies are needed:
set(CMAKE_DEPENDS_LANGUAGES
  )

# The set of dependency files which are needed:
set(CMAKE_DEPENDS_DEPENDENCY_FILES
  "/work/main/core/daemon/cubenetd.c" "CMakeFiles/cubenetd.dir/core/daemon/cubenetd.c.o" "gcc" "CMakeFiles/cubenetd.dir/core/daemon/cubenetd.c.o.d"
  "/work/main/core/daemon/datastore.c" "CMakeFiles/cubenetd.dir/core/daemon/datastore.c.o" "gcc" "CMakeFiles/cubenetd.dir/core/daemon/datastore.c.o.d"
  "/work/main/core/daemon/error.c" "CMakeFiles/cubenetd.dir/core/daemon/error.c.o" "gcc" "CMakeFiles/cubenetd.dir/core/daemon/error.c.o.d"
  "/work/main/core/daemon/metrics.c" "CMakeFiles/cubenetd.dir/core/daemon/metrics.c.o" "gcc" "CMakeFiles/cubenetd.dir/core/daemon/metrics.c.o.d"
  "/work/main/core/daemon/operations.c" "CMakeFiles/cubenetd.dir/core/daemon/operations.c.o" "gcc" "CMakeFiles/cubenetd.dir/core/daemon/operations.c.o.d"
  "/work/main/core/daemon/restconf.c" "CMakeFiles/cubenetd.dir/core/daemon/restconf.c.o" "gcc" "CMakeFiles/cubenetd.dir/core/daemon/restconf.c.o.d"
  "/work/main/core/daemon/restconf_path.c" "CMakeFiles/cubenetd.dir/core/daemon/restconf_path.c.o" "gcc" "CMakeFiles/cubenetd.dir/core/daemon/restconf_path.c.o.d"
  "/work/main/core/daemon/runtime.c" "CMakeFiles/cubenetd.dir/core/daemon/runtime.c.o" "gcc" "CMakeFiles/cubenetd.dir/core/daemon/runtime.c.o.d"
  "/work/main/core/daemon/services.c" "CMakeFiles/cubenetd.dir/core/daemon/services.c.o" "gcc" "CMakeFiles/cubenetd.dir/core/daemon/services.c.o.d"
  "/work/main/core/daemon/slowpath.c" "CMakeFiles/cubenetd.dir/core/daemon/slowpath.c.o" "gcc" "CMakeFiles/cubenetd.dir/core/daemon/slowpath.c.o.d"
  "/work/main/services/common.c" "CMakeFiles/cubenetd.dir/services/common.c.o" "gcc" "CMakeFiles/cubenetd.dir/services/common.c.o.d"
  "/work/main/services/lb/lb.c" "CMakeFiles/cubenetd.dir/services/lb/lb.c.o" "gcc" "CMakeFiles/cubenetd.dir/services/lb/lb.c.o.d"
  "/work/main/services/lb/lb_ids.c" "CMakeFiles/cubenetd.dir/services/lb/lb_ids.c.o" "gcc" "CMakeFiles/cubenetd.dir/services/lb/lb_ids.c.o.d"
  "/work/main/services/nat/nat.c" "CMakeFiles/cubenetd.dir/services/nat/nat.c.o" "gcc" "CMakeFiles/cubenetd.dir/services/nat/nat.c.o.d"
  "/work/main/services/pods/pods.c" "CMakeFiles/cubenetd.dir/services/pods/pods.c.o" "gcc" "CMakeFiles/cubenetd.dir/services/pods/pods.c.o.d"
  "/work/main/services/router/router.c" "CMakeFiles/cubenetd.dir/services/router/router.c.o" "gcc" "CMakeFiles/cubenetd.dir/services/router/router.c.o.d"
  )

# Targets to which this target links.
set(CMAKE_TARGET_LINKED_INFO_FILES
  "/work/main/build-asan/CMakeFiles/cubenet.dir/DependInfo.cmake"
  )

# Fortran module output directory.
set(CMAKE_Fortran_TARGET_MODULE_DIR "")
