file(REMOVE_RECURSE
  "CMakeFiles/cubectl.dir/cli/cubectl/command.c.o"
  "CMakeFiles/cubectl.dir/cli/cubectl/command.c.o.d"
  "CMakeFiles/cubectl.dir/cli/cubectl/error.c.o"
  "CMakeFiles/cubectl.dir/cli/cubectl/error.c.o.d"
  "CMakeFiles/cubectl.dir/cli/cubectl/help.c.o"
  "CMakeFiles/cubectl.dir/cli/cubectl/help.c.o.d"
  "CMakeFiles/cubectl.dir/cli/cubectl/main.c.o"
  "CMakeFiles/cubectl.dir/cli/cubectl/main.c.o.d"
  "CMakeFiles/cubectl.dir/cli/cubectl/render.c.o"
  "CMakeFiles/cubectl.dir/cli/cubectl/render.c.o.d"
  "CMakeFiles/cubectl.dir/cli/cubectl/schema.c.o"
  "CMakeFiles/cubectl.dir/cli/cubectl/schema.c.o.d"
  "CMakeFiles/cubectl.dir/cli/cubectl/values.c.o"
  "CMakeFiles/cubectl.dir/cli/cubectl/values.c.o.d"
  "CMakeFiles/cubectl.dir/cli/cubectl/yaml.c.o"
  "CMakeFiles/cubectl.dir/cli/cubectl/yaml.c.o.d"
  "cubectl"
  "cubectl.pdb"
)

# Per-language clean rules from dependency scanning.
foreach(lang C)
  include(CMakeFiles/cubectl.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
