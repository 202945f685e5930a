/* Hand-over-hand locking along a linked list of 100 nodes: lock the next node before unlocking the
 * current one. Four threads walk the list, always head to tail, 50 times each: every order edge goes
 * from node i to node i + 1, so there is no cycle. */
#include <pthread.h>

#include "tw_test.h"

#define NODES 100
#define THREADS 4
#define WALKS 50

struct node {
  pthread_mutex_t mu;
  long visits;
  struct node *next;
};

static struct node *head;
static pthread_barrier_t start;

static void walk(void) {
  struct node *cur = head;
  TW_OK(pthread_mutex_lock(&cur->mu));
  while (cur != NULL) {
    cur->visits++;
    struct node *next = cur->next;
    if (next != NULL) TW_OK(pthread_mutex_lock(&next->mu));
    TW_OK(pthread_mutex_unlock(&cur->mu));
    cur = next;
  }
}

static void *walker(void *arg) {
  (void)arg;
  int rc = pthread_barrier_wait(&start);
  TW_CHECK(rc == 0 || rc == PTHREAD_BARRIER_SERIAL_THREAD);
  for (int i = 0; i < WALKS; i++) walk();
  return NULL;
}

int main(void) {
  /* Separately allocated nodes, so their addresses are in no particular order. */
  for (int i = 0; i < NODES; i++) {
    struct node *n = calloc(1, sizeof(*n));
    TW_CHECK(n != NULL);
    TW_OK(pthread_mutex_init(&n->mu, NULL));
    n->next = head;
    head = n;
  }
  pthread_t t[THREADS];
  TW_OK(pthread_barrier_init(&start, NULL, THREADS));
  for (int i = 0; i < THREADS; i++) TW_OK(pthread_create(&t[i], NULL, walker, NULL));
  for (int i = 0; i < THREADS; i++) TW_OK(pthread_join(t[i], NULL));
  for (struct node *n = head, *next; n != NULL; n = next) {
    next = n->next;
    TW_CHECK(n->visits == THREADS * WALKS);
    TW_OK(pthread_mutex_destroy(&n->mu));
    free(n);
  }
  return 0;
}
