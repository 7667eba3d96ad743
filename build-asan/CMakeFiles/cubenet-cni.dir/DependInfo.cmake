
# Consider dependencies only in project.
set(CMAKE_DEPENDS_IN_PROJECT_ONLY OFF)

# The set of languages for which implicit dependencies are needed:
set(CMAKE_DEPENDS_LANGUAGES
  )

# The set of dependency files which are needed:
set(CMAKE_DEPENDS_DEPENDENCY_FILES
  "/work/main/k8s/cni/config.c" "CMakeFiles/cubenet-cni.dir/k8s/cni/config.c.o" "gcc" "CMakeFiles/cubenet-cni.dir/k8s/cni/config.c.o.d"
  "/work/main/k8s/cni/ipam.c" "CMakeFiles/cubenet-cni.dir/k8s/cni/ipam.c.o" "gcc" "CMakeFiles/cubenet-cni.dir/k8s/cni/ipam.c.o.d"
  "/work/main/k8s/cni/link.c" "CMakeFiles/cubenet-cni.dir/k8s/cni/link.c.o" "gcc" "CMakeFiles/cubenet-cni.dir/k8s/cni/link.c.o.d"
  "/work/main/k8s/cni/main.c" "CMakeFiles/cubenet-cni.dir/k8s/cni/main.c.o" "gcc" "CMakeFiles/cubenet-cni.dir/k8s/cni/main.c.o.d"
  "/work/main/k8s/cni/registry.c" "CMakeFiles/cubenet-cni.dir/k8s/cni/registry.c.o" "gcc" "CMakeFiles/cubenet-cni.dir/k8s/cni/registry.c.o.d"
  "/work/main/k8s/cni/result.c" "CMakeFiles/cubenet-cni.dir/k8s/cni/result.c.o" "gcc" "CMakeFiles/cubenet-cni.dir/k8s/cni/result.c.o.d"
  )

# Targets to which this target links.
set(CMAKE_TARGET_LINKED_INFO_FILES
  "/work/main/build-asan/CMakeFiles/cubenet-client.dir/DependInfo.cmake"
  )

# Fortran module output directory.
set(CMAKE_Fortran_TARGET_MODULE_DIR "")
