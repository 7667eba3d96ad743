file(REMOVE_RECURSE
  "libcubenet-client.a"
)
