file(REMOVE_RECURSE
  "CMakeFiles/cubenet-client.dir/core/client/restconf_client.c.o"
  "CMakeFiles/cubenet-client.dir/core/client/restconf_client.c.o.d"
  "libcubenet-client.a"
  "libcubenet-client.pdb"
)

# Per-language clean rules from dependency scanning.
foreach(lang C)
  include(CMakeFiles/cubenet-client.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
