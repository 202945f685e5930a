/* The library of the stress dlopen/dlclose scenario (issue 11 item 14): two statically initialised
 * mutexes, taken A then B by lock_ab and B then A by lock_ba. stress.sh builds it with -shared. */
#include <pthread.h>

static pthread_mutex_t a = PTHREAD_MUTEX_INITIALIZER, b = PTHREAD_MUTEX_INITIALIZER;
static int calls;

void lock_ab(void) {
  pthread_mutex_lock(&a);
  pthread_mutex_lock(&b);
  calls++;
  pthread_mutex_unlock(&b);
  pthread_mutex_unlock(&a);
}

void lock_ba(void) {
  pthread_mutex_lock(&b);
  pthread_mutex_lock(&a);
  calls++;
  pthread_mutex_unlock(&a);
  pthread_mutex_unlock(&b);
}

int count(void) { return calls; }
