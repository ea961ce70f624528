#ifndef GREET_H_
#define GREET_H_
int greet(char* out, int size, const char* name);
#endif
