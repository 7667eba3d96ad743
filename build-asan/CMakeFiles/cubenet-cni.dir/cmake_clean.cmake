file(REMOVE_RECURSE
  "CMakeFiles/cubenet-cni.dir/k8s/cni/config.c.o"
  "CMakeFiles/cubenet-cni.dir/k8s/cni/config.c.o.d"
  "CMakeFiles/cubenet-cni.dir/k8s/cni/ipam.c.o"
  "CMakeFiles/cubenet-cni.dir/k8s/cni/ipam.c.o.d"
  "CMakeFiles/cubenet-cni.dir/k8s/cni/link.c.o"
  "CMakeFiles/cubenet-cni.dir/k8s/cni/link.c.o.d"
  "CMakeFiles/cubenet-cni.dir/k8s/cni/main.c.o"
  "CMakeFiles/cubenet-cni.dir/k8s/cni/main.c.o.d"
  "CMakeFiles/cubenet-cni.dir/k8s/cni/registry.c.o"
  "CMakeFiles/cubenet-cni.dir/k8s/cni/registry.c.o.d"
  "CMakeFiles/cubenet-cni.dir/k8s/cni/result.c.o"
  "CMakeFiles/cubenet-cni.dir/k8s/cni/result.c.o.d"
  "cni/cubenet"
  "cni/cubenet.pdb"
)

# Per-language clean rules from dependency scanning.
foreach(lang C)
  include(CMakeFiles/cubenet-cni.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
