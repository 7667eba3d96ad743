file(REMOVE_RECURSE
  "libcubenet.a"
)
