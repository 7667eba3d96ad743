
# Consider dependencies only in project.
set(CMAKE_DEPENDS_IN_PROJECT_ONLY OFF)

# The set of languages for which implicit dependencies are needed:
set(CMAKE_DEPENDS_LANGUAGES
  )

# The set of dependency files which are needed:
set(CMAKE_DEPENDS_DEPENDENCY_FILES
  "/work/main/cli/cubectl/command.c" "CMakeFiles/cubectl.dir/cli/cubectl/command.c.o" "gcc" "CMakeFiles/cubectl.dir/cli/cubectl/command.c.o.d"
  "/work/main/cli/cubectl/error.c" "CMakeFiles/cubectl.dir/cli/cubectl/error.c.o" "gcc" "CMakeFiles/cubectl.dir/cli/cubectl/error.c.o.d"
  "/work/main/cli/cubectl/help.c" "CMakeFiles/cubectl.dir/cli/cubectl/help.c.o" "gcc" "CMakeFiles/cubectl.dir/cli/cubectl/help.c.o.d"
  "/work/main/cli/cubectl/main.c" "CMakeFiles/cubectl.dir/cli/cubectl/main.c.o" "gcc" "CMakeFiles/cubectl.dir/cli/cubectl/main.c.o.d"
  "/work/main/cli/cubectl/render.c" "CMakeFiles/cubectl.dir/cli/cubectl/render.c.o" "gcc" "CMakeFiles/cubectl.dir/cli/cubectl/render.c.o.d"
  "/work/main/cli/cubectl/schema.c" "CMakeFiles/cubectl.dir/cli/cubectl/schema.c.o" "gcc" "CMakeFiles/cubectl.dir/cli/cubectl/schema.c.o.d"
  "/work/main/cli/cubectl/values.c" "CMakeFiles/cubectl.dir/cli/cubectl/values.c.o" "gcc" "CMakeFiles/cubectl.dir/cli/cubectl/values.c.o.d"
  "/work/main/cli/cubectl/yaml.c" "CMakeFiles/cubectl.dir/cli/cubectl/yaml.c.o" "gcc" "CMakeFiles/cubectl.dir/cli/cubectl/yaml.c.o.d"
  )

# Targets to which this target links.
set(CMAKE_TARGET_LINKED_INFO_FILES
  "/work/main/build-asan/CMakeFiles/cubenet-client.dir/DependInfo.cmake"
  )

# Fortran module output directory.
set(CMAKE_Fortran_TARGET_MODULE_DIR "")
