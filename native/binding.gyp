{
  "targets": [
    {
      "target_name": "iouring",
      "sources": ["iouring.c"],
      "libraries": ["-luring"],
      "cflags": ["-O2", "-Wall", "-Wextra", "-Wno-unused-parameter", "-Wno-missing-field-initializers"],
      "defines": ["NAPI_VERSION=8"]
    }
  ]
}
