/* issue 12 item 2: zeroed malloc'd mutexes (malloc + memset 0: all-zero bytes are
 * PTHREAD_MUTEX_INITIALIZER on glibc; no pthread_mutex_init nor destroy) are freed, and new zeroed
 * blocks take the same addresses. The old pair was locked low then high; the new pair high then low, by another
 * thread. The freed locks are gone: no lock was taken in two orders. No report, exit 0 (today a
 * false lock-order-cycle). */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tw_test.h"

struct node {
  pthread_mutex_t lock; /* zero bytes: a default mutex */
  long value;
};

static struct node *lo, *hi;

/* A zeroed block from malloc (calloc does not take blocks from glibc's per-thread cache). */
static struct node *new_node(void) {
  struct node *n = malloc(sizeof(*n));
  TW_CHECK(n != NULL);
  memset(n, 0, sizeof(*n));
  return n;
}

static TW_NOINLINE void lock_pair(struct node *first, struct node *second) {
  TW_OK(pthread_mutex_lock(&first->lock));
  TW_OK(pthread_mutex_lock(&second->lock));
  first->value++;
  second->value++;
  TW_OK(pthread_mutex_unlock(&second->lock));
  TW_OK(pthread_mutex_unlock(&first->lock));
}

static void *second_pass(void *arg) {
  (void)arg;
  lock_pair(hi, lo); /* the new blocks: high address, then low */
  return NULL;
}

int main(void) {
  struct node *a = new_node(), *b = new_node();
  lo = (uintptr_t)a < (uintptr_t)b ? a : b;
  hi = lo == a ? b : a;
  lock_pair(lo, hi); /* the old blocks: low address, then high */
  void *old_lo = lo, *old_hi = hi;
  free(a);
  free(b);
  /* No pthread call in between: the per-thread cache hands the same two blocks back. */
  struct node *c = new_node(), *d = new_node();
  TW_CHECK((c == old_lo && d == old_hi) || (c == old_hi && d == old_lo));
  lo = (uintptr_t)c < (uintptr_t)d ? c : d;
  hi = lo == c ? d : c;
  pthread_t t;
  TW_OK(pthread_create(&t, NULL, second_pass, NULL));
  TW_OK(pthread_join(t, NULL));
  printf("values %ld %ld\n", lo->value, hi->value);
  free(c);
  free(d);
  return 0;
}
