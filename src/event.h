/* The fixed-size binary events that application threads send to the reporter through their rings. */
#ifndef TW_EVENT_H
#define TW_EVENT_H

#include <assert.h>
#include <stdint.h>

enum tw_event_type {
  TW_EV_NONE = 0,
  /* A thread did I/O on a tracked fd for the first time: a = fd, aux = TW_EV_IO_READ/WRITE,
   * stack = where. The reporter keeps per-fd reader/writer sets for blocked-I/O reports. */
  TW_EV_FD_IO,
  /* A never-seen lock-order edge held -> acquired (lock-order issue): a = held, b = acquired,
   * stack = where `acquired` was taken, stack2 = where `held` was taken, aux = flags. */
  TW_EV_LOCK_EDGE,
  /* A lock was destroyed or re-initialised: a = address. */
  TW_EV_LOCK_RESET,
  TW_EV_TYPE_COUNT
};

enum { TW_EV_IO_READ = 1, TW_EV_IO_WRITE = 2 };

/* 32 bytes: two addresses plus two stack ids, so a lock-order edge fits one event. */
struct tw_event {
  uint8_t type;    /* enum tw_event_type */
  uint8_t flags;
  uint16_t aux;
  uint32_t stack;  /* stack depot id, 0 = none */
  uint64_t a;
  uint64_t b;
  uint32_t stack2;
  uint32_t aux32;
};
static_assert(sizeof(struct tw_event) == 32, "events are fixed-size, 32 bytes");

#endif
