#include "greet.h"

#include <stdio.h>

int greet(char* out, int size, const char* name) {
  return snprintf(out, size, "hello, %s", name);
}
