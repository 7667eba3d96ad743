file(REMOVE_RECURSE
  "libcubenet_test.a"
)
