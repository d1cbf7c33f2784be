/*
 * The C library's allocation entry points as a test program sees them
 * when it is linked with -Wl,--wrap for each (tests/CMakeLists.txt): the
 * program defines the __wrap_ functions, which may count, fail or pass a
 * call on to the __real_ ones.
 */
#ifndef TCPCORE_TESTS_LIBC_WRAP_H
#define TCPCORE_TESTS_LIBC_WRAP_H

#include <stddef.h>

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t size);
void *__real_realloc(void *p, size_t n);
void *__real_aligned_alloc(size_t align, size_t n);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t n, size_t size);
void *__wrap_realloc(void *p, size_t n);
void *__wrap_aligned_alloc(size_t align, size_t n);

#endif
