/* Unit tests for ring.c/ring.h: order, wrap-around, overflow accounting, and one producer thread
 * with one consumer thread (also run under TSan). */
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "runtime/ring.h"


static tw_ring_t *new_ring(void) {
  tw_ring_t *r = aligned_alloc(64, tw_ring_bytes(TW_RING_SLOTS));
  assert_non_null(r);
  memset(r, 0xa5, tw_ring_bytes(TW_RING_SLOTS)); /* garbage: tw_ring_init must set what matters */
  tw_ring_init(r, TW_RING_SLOTS);
  return r;
}

static struct tw_event ev_seq(uint64_t seq) {
  struct tw_event ev = {0};
  ev.type = TW_EV_LOCK_RESET;
  ev.a = seq;
  /* A second copy of the sequence number: a torn or stale slot shows up as a mismatch. */
  ev.b = ~seq;
  ev.aux32 = (uint32_t)(seq * 2654435761u);
  return ev;
}

/* Drain callback context: checks that events arrive as consecutive sequence numbers. */
struct seq_check {
  uint64_t next; /* the sequence number expected next */
  uint64_t received;
  uint64_t bad; /* events out of order or damaged */
};

static void check_consecutive(const struct tw_event *ev, void *ctx) {
  struct seq_check *c = ctx;
  if (ev->a != c->next || ev->b != ~ev->a || ev->aux32 != (uint32_t)(ev->a * 2654435761u)) c->bad++;
  c->next = ev->a + 1;
  c->received++;
}

static void test_ring_empty_after_init(void **state) {
  (void)state;
  tw_ring_t *r = new_ring();
  struct seq_check c = {0};
  assert_int_equal(tw_ring_drain(r, check_consecutive, &c), 0);
  assert_int_equal(c.received, 0);
  assert_int_equal(tw_ring_dropped(r), 0);
  free(r);
}

static void test_ring_push_drain_order(void **state) {
  (void)state;
  tw_ring_t *r = new_ring();
  for (uint64_t i = 0; i < 10; i++) {
    struct tw_event ev = ev_seq(i);
    assert_true(tw_ring_push(r, &ev));
  }
  struct seq_check c = {0};
  assert_int_equal(tw_ring_drain(r, check_consecutive, &c), 10);
  assert_int_equal(c.received, 10);
  assert_int_equal(c.bad, 0);
  /* Drained events are gone. */
  assert_int_equal(tw_ring_drain(r, check_consecutive, &c), 0);
  assert_int_equal(c.received, 10);
  free(r);
}

static void copy_out(const struct tw_event *ev, void *ctx) {
  *(struct tw_event *)ctx = *ev;
}

static void test_ring_event_copied_whole(void **state) {
  (void)state;
  tw_ring_t *r = new_ring();
  /* Every byte of the event distinct (struct tw_event has no padding: its size is asserted). */
  struct tw_event in, out;
  unsigned char *bytes = (unsigned char *)&in;
  for (size_t i = 0; i < sizeof(in); i++) bytes[i] = (unsigned char)(i * 7 + 1);
  in.type = TW_EV_LOCK_EDGE;
  struct tw_event sent = in;
  assert_true(tw_ring_push(r, &in));
  memset(&in, 0, sizeof(in)); /* the ring holds a copy, not a pointer */
  memset(&out, 0, sizeof(out));
  assert_int_equal(tw_ring_drain(r, copy_out, &out), 1);
  assert_memory_equal(&out, &sent, sizeof(out));
  free(r);
}

/* Batches of sizes that are not divisors of the ring size make the head and tail cross the end of
 * the slot array at every offset over several laps. */
static void test_ring_wraps_over_several_laps(void **state) {
  (void)state;
  tw_ring_t *r = new_ring();
  static const uint64_t batches[] = {
      1,    TW_RING_SLOTS - 1, 3, TW_RING_SLOTS, 7, TW_RING_SLOTS / 2 + 5, TW_RING_SLOTS - 2, 1,
      1000, TW_RING_SLOTS};
  uint64_t seq = 0;
  struct seq_check c = {0};
  for (int lap = 0; lap < 3; lap++) {
    for (size_t b = 0; b < sizeof(batches) / sizeof(batches[0]); b++) {
      for (uint64_t i = 0; i < batches[b]; i++) {
        struct tw_event ev = ev_seq(seq++);
        assert_true(tw_ring_push(r, &ev));
      }
      assert_int_equal(tw_ring_drain(r, check_consecutive, &c), batches[b]);
    }
  }
  assert_true(seq > 5 * TW_RING_SLOTS);
  assert_int_equal(c.received, seq);
  assert_int_equal(c.bad, 0);
  assert_int_equal(tw_ring_dropped(r), 0);
  free(r);
}

static void test_ring_overflow_counts_drops(void **state) {
  (void)state;
  tw_ring_t *r = new_ring();
  uint64_t seq = 0;
  for (; seq < TW_RING_SLOTS; seq++) {
    struct tw_event ev = ev_seq(seq);
    assert_true(tw_ring_push(r, &ev));
  }
  assert_int_equal(tw_ring_dropped(r), 0);
  /* Full: every further push returns false at once and is counted; the queued events are kept. */
  for (int i = 0; i < 25; i++) {
    struct tw_event ev = ev_seq(999999);
    assert_false(tw_ring_push(r, &ev));
    assert_int_equal(tw_ring_dropped(r), (uint64_t)i + 1);
  }
  struct seq_check c = {0};
  assert_int_equal(tw_ring_drain(r, check_consecutive, &c), TW_RING_SLOTS);
  assert_int_equal(c.bad, 0);
  assert_int_equal(c.next, TW_RING_SLOTS);
  assert_int_equal(tw_ring_dropped(r), 25); /* draining does not reset the counter */
  free(r);
}

static void test_ring_drain_after_overflow_continues(void **state) {
  (void)state;
  tw_ring_t *r = new_ring();
  uint64_t seq = 0, drops = 0;
  struct seq_check c = {0};
  for (int round = 0; round < 4; round++) {
    /* Overfill by a different amount each round, drain part way, overfill again, drain all. */
    uint64_t first = seq;
    uint64_t pushed = 0;
    for (uint64_t i = 0; i < TW_RING_SLOTS + 10 + (uint64_t)round * 17; i++) {
      struct tw_event ev = ev_seq(seq);
      if (tw_ring_push(r, &ev)) {
        seq++;
        pushed++;
      } else {
        drops++;
      }
    }
    assert_int_equal(pushed, TW_RING_SLOTS);
    assert_int_equal(tw_ring_dropped(r), drops);
    c.next = first;
    assert_int_equal(tw_ring_drain(r, check_consecutive, &c), TW_RING_SLOTS);
    assert_int_equal(c.bad, 0);
    /* After the drain, the ring accepts a full ring's worth again, in order. */
    for (uint64_t i = 0; i < 5; i++) {
      struct tw_event ev = ev_seq(seq++);
      assert_true(tw_ring_push(r, &ev));
    }
    c.next = seq - 5;
    assert_int_equal(tw_ring_drain(r, check_consecutive, &c), 5);
    assert_int_equal(c.bad, 0);
  }
  assert_int_equal(c.received, seq);
  free(r);
}

/* --- one producer thread, one consumer thread --- */

#define SPSC_EVENTS 1000000ull

struct spsc {
  tw_ring_t *ring;
  /* True: the producer retries until each event fits (nothing is lost). */
  bool retry_when_full;
  _Atomic int start;
  /* Release-stored by the producer after its last push; acquire-loaded by the consumer. */
  _Atomic int producer_done;
  uint64_t failed_pushes; /* the producer's own count of false returns */
  /* The consumer's view. */
  uint64_t received, out_of_order, damaged, skipped, next;
};

static void spsc_consume(const struct tw_event *ev, void *ctx) {
  struct spsc *s = ctx;
  if (ev->b != ~ev->a || ev->aux32 != (uint32_t)(ev->a * 2654435761u)) s->damaged++;
  if (ev->a < s->next)
    s->out_of_order++;
  else
    s->skipped += ev->a - s->next; /* sequence numbers the producer dropped */
  s->next = ev->a + 1;
  s->received++;
}

static void *spsc_producer(void *p) {
  struct spsc *s = p;
  while (!atomic_load_explicit(&s->start, memory_order_acquire)) sched_yield();
  for (uint64_t i = 0; i < SPSC_EVENTS; i++) {
    struct tw_event ev = ev_seq(i);
    while (!tw_ring_push(s->ring, &ev)) {
      s->failed_pushes++;
      sched_yield(); /* let the consumer in, so drops and deliveries interleave */
      if (!s->retry_when_full) break;
    }
  }
  atomic_store_explicit(&s->producer_done, 1, memory_order_release);
  return NULL;
}

static void *spsc_consumer(void *p) {
  struct spsc *s = p;
  while (!atomic_load_explicit(&s->start, memory_order_acquire)) sched_yield();
  for (;;) {
    int done = atomic_load_explicit(&s->producer_done, memory_order_acquire);
    uint64_t n = tw_ring_drain(s->ring, spsc_consume, s);
    if (done && n == 0) break; /* everything pushed before `done` has been drained */
    if (n == 0) sched_yield();
  }
  return NULL;
}

static void run_spsc(struct spsc *s) {
  s->ring = new_ring();
  pthread_t prod, cons;
  assert_int_equal(pthread_create(&cons, NULL, spsc_consumer, s), 0);
  assert_int_equal(pthread_create(&prod, NULL, spsc_producer, s), 0);
  atomic_store_explicit(&s->start, 1, memory_order_release);
  assert_int_equal(pthread_join(prod, NULL), 0);
  assert_int_equal(pthread_join(cons, NULL), 0);
  s->skipped += SPSC_EVENTS - s->next; /* drops after the last event received */
  print_message("%s: %llu received, %llu failed pushes\n",
                s->retry_when_full ? "retrying producer" : "dropping producer",
                (unsigned long long)s->received, (unsigned long long)s->failed_pushes);
}

static void test_ring_concurrent_spsc_counts_every_drop(void **state) {
  (void)state;
  static struct spsc s;
  memset(&s, 0, sizeof(s));
  s.retry_when_full = false;
  run_spsc(&s);
  assert_int_equal(s.damaged, 0);
  assert_int_equal(s.out_of_order, 0);
  /* No loss except counted drops: exactly the sequence numbers that were dropped are missing. */
  assert_int_equal(tw_ring_dropped(s.ring), s.failed_pushes);
  assert_int_equal(s.skipped, s.failed_pushes);
  assert_int_equal(s.received + s.failed_pushes, SPSC_EVENTS);
  free(s.ring);
}

static void test_ring_concurrent_spsc_lossless_when_producer_retries(void **state) {
  (void)state;
  static struct spsc s;
  memset(&s, 0, sizeof(s));
  s.retry_when_full = true;
  run_spsc(&s);
  assert_int_equal(s.damaged, 0);
  assert_int_equal(s.out_of_order, 0);
  assert_int_equal(s.skipped, 0);
  assert_int_equal(s.received, SPSC_EVENTS);
  assert_int_equal(s.next, SPSC_EVENTS);
  /* Every false return was counted, even though each event was then pushed again. */
  assert_int_equal(tw_ring_dropped(s.ring), s.failed_pushes);
  free(s.ring);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_ring_empty_after_init),
      cmocka_unit_test(test_ring_push_drain_order),
      cmocka_unit_test(test_ring_event_copied_whole),
      cmocka_unit_test(test_ring_wraps_over_several_laps),
      cmocka_unit_test(test_ring_overflow_counts_drops),
      cmocka_unit_test(test_ring_drain_after_overflow_continues),
      cmocka_unit_test(test_ring_concurrent_spsc_counts_every_drop),
      cmocka_unit_test(test_ring_concurrent_spsc_lossless_when_producer_retries),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
