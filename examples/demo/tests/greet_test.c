#include <stdio.h>
#include <string.h>

#include "../src/greet.h"

int main(void) {
  char buf[64];
  greet(buf, sizeof buf, "slipway");
  if (strcmp(buf, "hello, slipway") != 0) {
    printf("FAIL: got '%s'\n", buf);
    return 1;
  }
  printf("PASS: greet\n");
  return 0;
}
