/* The call and wait-class tables (calls.h). */
#include "runtime/calls.h"

static const struct {
  const char *name;
  enum tw_wait_class cls;
  bool timed;
} calls[] = {
    [TW_CALL_NONE] = {"none", TW_WC_NONE, false},
#define TW_CALL(ID, nm, cl, tm) [TW_CALL_##ID] = {nm, TW_WC_##cl, tm},
#include "runtime/calls.inc"
#undef TW_CALL
};

static const char *const class_names[] = {
    [TW_WC_NONE] = "",
#define TW_WAIT_CLASS(ID, nm) [TW_WC_##ID] = nm,
#include "runtime/waitclass.inc"
#undef TW_WAIT_CLASS
};

const char *tw_call_name(enum tw_call c) { return (unsigned)c < TW_CALL_COUNT ? calls[c].name : "?"; }

enum tw_wait_class tw_call_class(enum tw_call c) {
  return (unsigned)c < TW_CALL_COUNT ? calls[c].cls : TW_WC_NONE;
}

bool tw_call_timed(enum tw_call c) { return (unsigned)c < TW_CALL_COUNT && calls[c].timed; }

const char *tw_wait_class_name(enum tw_wait_class c) {
  return (unsigned)c < TW_WC_COUNT ? class_names[c] : "";
}
