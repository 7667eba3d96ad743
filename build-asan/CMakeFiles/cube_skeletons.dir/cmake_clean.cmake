file(REMOVE_RECURSE
  "CMakeFiles/cube_skeletons"
  "skel/classifier_tc.bpf.o"
  "skel/classifier_tc.skel.h"
  "skel/classifier_xdp.bpf.o"
  "skel/classifier_xdp.skel.h"
  "skel/l2rewrite_tc.bpf.o"
  "skel/l2rewrite_tc.skel.h"
  "skel/l2rewrite_xdp.bpf.o"
  "skel/l2rewrite_xdp.skel.h"
  "skel/maglev_tc.bpf.o"
  "skel/maglev_tc.skel.h"
  "skel/maglev_xdp.bpf.o"
  "skel/maglev_xdp.skel.h"
  "skel/nat_tc.bpf.o"
  "skel/nat_tc.skel.h"
  "skel/nat_xdp.bpf.o"
  "skel/nat_xdp.skel.h"
  "skel/parser_tc.bpf.o"
  "skel/parser_tc.skel.h"
  "skel/parser_xdp.bpf.o"
  "skel/parser_xdp.skel.h"
  "skel/router_tc.bpf.o"
  "skel/router_tc.skel.h"
  "skel/router_xdp.bpf.o"
  "skel/router_xdp.skel.h"
)

# Per-language clean rules from dependency scanning.
foreach(lang )
  include(CMakeFiles/cube_skeletons.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
