/* Named-memory-order wrappers over <stdatomic.h>: every pairing in the code names its partner. */
#ifndef TW_ATOMIC_H
#define TW_ATOMIC_H

#include <stdatomic.h>

#define tw_load_relaxed(p)      atomic_load_explicit((p), memory_order_relaxed)
#define tw_load_acquire(p)      atomic_load_explicit((p), memory_order_acquire)
#define tw_store_relaxed(p, v)  atomic_store_explicit((p), (v), memory_order_relaxed)
#define tw_store_release(p, v)  atomic_store_explicit((p), (v), memory_order_release)
#define tw_add_relaxed(p, v)    atomic_fetch_add_explicit((p), (v), memory_order_relaxed)
#define tw_add_acq_rel(p, v)    atomic_fetch_add_explicit((p), (v), memory_order_acq_rel)
#define tw_cas_acq_rel(p, e, v) \
  atomic_compare_exchange_weak_explicit((p), (e), (v), memory_order_acq_rel, memory_order_acquire)
#define tw_fence_acquire()      atomic_thread_fence(memory_order_acquire)
#define tw_fence_release()      atomic_thread_fence(memory_order_release)

#endif
