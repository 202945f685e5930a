/* SARIF 2.1.0 from a report view (view.h), for the in-process writer and the CLI alike. */
#include "report/view.h"

#include <stdio.h>
#include <string.h>

#include "report/rules.h"

bool tw_frame_is_program(const char *module, const char *file, const char *function) {
  /* A sanitizer runtime linked into the executable (clang's static ASan) is not the program's. */
  if (function &&
      (strncmp(function, "__interceptor_", 14) == 0 || strncmp(function, "___interceptor_", 15) == 0 ||
       strncmp(function, "__asan_", 7) == 0 || strncmp(function, "__sanitizer", 11) == 0))
    return false;
  if (!module || !module[0] || strcmp(module, "??") == 0) return false;
  if (file && strncmp(file, "/usr/include/", 13) == 0) return false; /* inlined from headers */
  if (strncmp(module, "/lib", 4) == 0 || strncmp(module, "/usr/lib", 8) == 0) return false;
  if (strstr(module, "linux-vdso") || strstr(module, "[vdso]")) return false;
  const char *slash = strrchr(module, '/');
  return strncmp(slash ? slash + 1 : module, "libthreadwatch", 14) != 0;
}

static bool has_file(const struct tw_view_frame *f) { return f->file && f->file[0]; }

/* The root without its trailing slashes; its length in *n (0: none). */
static const char *root_of(const char *source_root, size_t *n) {
  *n = source_root ? strlen(source_root) : 0;
  while (*n > 1 && source_root[*n - 1] == '/') (*n)--;
  return source_root;
}

static size_t encode(char *out, size_t n, size_t o, const char *s) {
  static const char hex[] = "0123456789ABCDEF";
  for (const unsigned char *p = (const unsigned char *)s; *p && o + 4 < n; p++) {
    if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '-' ||
        *p == '.' || *p == '_' || *p == '~' || *p == '/') {
      out[o++] = (char)*p;
    } else {
      out[o++] = '%';
      out[o++] = hex[*p >> 4];
      out[o++] = hex[*p & 15];
    }
  }
  out[o] = '\0';
  return o;
}

void tw_sarif_uri(char *out, size_t n, const char *path, const char *source_root, bool *based) {
  size_t rn;
  const char *root = root_of(source_root, &rn);
  *based = false;
  if (n == 0) return;
  out[0] = '\0';
  if (rn && strncmp(path, root, rn) == 0 && path[rn] == '/') {
    *based = true;
    encode(out, n, 0, path + rn + 1);
  } else if (path[0] == '/') {
    size_t o = (size_t)snprintf(out, n, "file://");
    if (o < n) encode(out, n, o, path);
  } else {
    *based = true; /* relative as the compiler saw it: relative to the source root too */
    encode(out, n, 0, path[0] == '.' && path[1] == '/' ? path + 2 : path);
  }
}

/* {"text":"..."}: a sentence, with a full stop added when it has none (SARIF's style rule). */
static void message(struct tw_out *o, const char *text) {
  char s[TW_VIEW_MSG + 600];
  size_t len = strlen(text);
  if (len > sizeof(s) - 2) len = sizeof(s) - 2;
  memcpy(s, text, len);
  if (len == 0 || (s[len - 1] != '.' && s[len - 1] != '!' && s[len - 1] != '?')) s[len++] = '.';
  s[len] = '\0';
  tw_out_str(o, "{\"text\":");
  tw_out_json_str(o, s);
  tw_out_str(o, "}");
}

void tw_sarif_begin(struct tw_out *o, const char *version, const char *source_root) {
  tw_out_str(o,
             "{\"$schema\":\"https://json.schemastore.org/sarif-2.1.0.json\",\"version\":"
             "\"2.1.0\",\"runs\":[{\"tool\":{\"driver\":{\"name\":\"threadwatch\",\"version\":");
  tw_out_json_str(o, version);
  tw_out_str(o, ",\"semanticVersion\":");
  tw_out_json_str(o, version);
  tw_out_str(o, ",\"rules\":[");
  size_t n;
  const struct tw_rule *rules = tw_rules(&n);
  for (size_t i = 0; i < n; i++) {
    const struct tw_rule *r = &rules[i];
    char id[64];
    snprintf(id, sizeof(id), "%s%s%s", r->kind, r->what[0] ? "/" : "", r->what);
    tw_out_str(o, i ? ",{\"id\":" : "{\"id\":");
    tw_out_json_str(o, id);
    tw_out_str(o, ",\"name\":");
    tw_out_json_str(o, r->name);
    tw_out_str(o, ",\"shortDescription\":");
    message(o, r->short_desc);
    tw_out_str(o, ",\"fullDescription\":");
    message(o, r->help);
    tw_out_str(o, ",\"help\":");
    message(o, r->help);
    tw_out_fmt(o,
               ",\"defaultConfiguration\":{\"level\":\"%s\"},\"properties\":{\"tags\":"
               "[\"concurrency\",\"threads\"],\"kind\":",
               r->severity);
    tw_out_json_str(o, r->kind);
    tw_out_str(o, ",\"what\":");
    tw_out_json_str(o, r->what);
    tw_out_str(o, "}}");
  }
  tw_out_str(o, "]}}");
  size_t rn;
  const char *root = root_of(source_root, &rn);
  if (rn && root[0] == '/') {
    char uri[4200], copy[4096];
    snprintf(copy, sizeof(copy), "%.*s/", (int)rn, root);
    size_t k = (size_t)snprintf(uri, sizeof(uri), "file://");
    encode(uri, sizeof(uri), k, rn == 1 ? "/" : copy);
    tw_out_str(o, ",\"originalUriBaseIds\":{\"SRCROOT\":{\"uri\":");
    tw_out_json_str(o, uri);
    tw_out_str(o, "}}");
  }
  tw_out_str(o, ",\"columnKind\":\"utf16CodeUnits\",\"results\":[");
}

/* The frame of a stack that stands for it: the innermost program frame with a file, else the
 * innermost program frame; -1 when it has none. */
static int program_frame(const struct tw_view_stack *s) {
  int any = -1;
  for (uint32_t i = 0; i < s->nframes; i++) {
    const struct tw_view_frame *f = &s->frames[i];
    if (!tw_frame_is_program(f->module, f->file, f->function)) continue;
    if (has_file(f)) return (int)i;
    if (any < 0) any = (int)i;
  }
  return any;
}

/* A location object for frame f (with "id" when id >= 0, a message when text is not NULL). */
static void location(struct tw_out *o, const struct tw_view_frame *f, int id, const char *text,
                     const char *root) {
  tw_out_str(o, "{");
  if (id >= 0) tw_out_fmt(o, "\"id\":%d,", id);
  char uri[4200];
  bool based = false;
  tw_sarif_uri(uri, sizeof(uri), has_file(f) ? f->file : f->module, root, &based);
  tw_out_str(o, "\"physicalLocation\":{\"artifactLocation\":{\"uri\":");
  tw_out_json_str(o, uri);
  if (based) tw_out_str(o, ",\"uriBaseId\":\"SRCROOT\"");
  tw_out_str(o, "}");
  if (has_file(f) && f->line > 0) tw_out_fmt(o, ",\"region\":{\"startLine\":%d}", f->line);
  tw_out_str(o, "}");
  if (f->function && strcmp(f->function, "??") != 0) {
    tw_out_str(o, ",\"logicalLocations\":[{\"fullyQualifiedName\":");
    tw_out_json_str(o, f->function);
    tw_out_str(o, ",\"kind\":\"function\"}]");
  }
  if (text) {
    tw_out_str(o, ",\"message\":");
    message(o, text);
  }
  tw_out_str(o, "}");
}

/* "MSG: worker_main (worker.c:42)" for a related location. */
static void frame_text(char *buf, size_t n, const char *msg, const struct tw_view_frame *f) {
  const char *file = has_file(f) ? f->file : f->module;
  const char *slash = file ? strrchr(file, '/') : NULL;
  if (has_file(f) && f->line > 0)
    snprintf(buf, n, "%s: %s (%s:%d)", msg, f->function, slash ? slash + 1 : file, f->line);
  else
    snprintf(buf, n, "%s: %s (%s)", msg, f->function, slash ? slash + 1 : file ? file : "??");
}

/* Program frames of a stack shown as related locations: the innermost few. */
#define RELATED_PER_STACK 4

void tw_sarif_result(struct tw_out *o, const struct tw_view *v, const char *source_root) {
  size_t nrules;
  const struct tw_rule *rules = tw_rules(&nrules);
  int ri = tw_rule_index(v->kind, v->what);
  char id[64];
  if (ri >= 0)
    snprintf(id, sizeof(id), "%s%s%s", rules[ri].kind, rules[ri].what[0] ? "/" : "", rules[ri].what);
  else
    snprintf(id, sizeof(id), "%s/%s", v->kind, v->what ? v->what : "");
  tw_out_str(o, "{\"ruleId\":");
  tw_out_json_str(o, id);
  if (ri >= 0) tw_out_fmt(o, ",\"ruleIndex\":%d", ri);
  const char *level = v->severity && !strcmp(v->severity, "warning") ? "warning" : "error";
  tw_out_fmt(o, ",\"level\":\"%s\",\"message\":", level);
  message(o, v->message && v->message[0] ? v->message : id);

  /* The primary location: the first stack's program frame, else any frame with a file, else any
   * frame at all (its module). */
  const struct tw_view_frame *primary = NULL;
  const char *primary_msg = NULL;
  for (uint32_t s = 0; s < v->nstacks && !primary; s++) {
    int k = program_frame(&v->stacks[s]);
    if (k >= 0) primary = &v->stacks[s].frames[k], primary_msg = v->stacks[s].message;
  }
  for (uint32_t s = 0; s < v->nstacks && !primary; s++)
    for (uint32_t k = 0; k < v->stacks[s].nframes && !primary; k++)
      if (has_file(&v->stacks[s].frames[k]))
        primary = &v->stacks[s].frames[k], primary_msg = v->stacks[s].message;
  for (uint32_t s = 0; s < v->nstacks && !primary; s++)
    if (v->stacks[s].nframes) primary = &v->stacks[s].frames[0], primary_msg = v->stacks[s].message;
  if (primary) {
    tw_out_str(o, ",\"locations\":[");
    location(o, primary, -1, primary_msg, source_root);
    tw_out_str(o, "]");
  }

  /* Related locations: the program frames of every stack. */
  int nrel = 0;
  for (uint32_t s = 0; s < v->nstacks; s++) {
    const struct tw_view_stack *st = &v->stacks[s];
    int shown = 0;
    for (uint32_t k = 0; k < st->nframes && shown < RELATED_PER_STACK; k++) {
      const struct tw_view_frame *f = &st->frames[k];
      if (!tw_frame_is_program(f->module, f->file, f->function)) continue;
      char text[TW_VIEW_MSG + 200];
      frame_text(text, sizeof(text), st->message, f);
      tw_out_str(o, nrel ? "," : ",\"relatedLocations\":[");
      location(o, f, ++nrel, text, source_root);
      shown++;
    }
  }
  if (nrel) tw_out_str(o, "]");

  /* One code flow, one thread flow per flow message, one step per stack of that flow. */
  int nthreadflows = 0;
  for (uint32_t fl = 0; fl < v->nflows; fl++) {
    int steps = 0;
    for (uint32_t s = 0; s < v->nstacks; s++) {
      const struct tw_view_stack *st = &v->stacks[s];
      if (st->flow != (int)fl) continue;
      int k = program_frame(st);
      if (k < 0) k = st->nframes ? 0 : -1;
      if (k < 0) continue;
      if (!steps) {
        tw_out_str(o, nthreadflows ? "," : ",\"codeFlows\":[{\"message\":");
        if (!nthreadflows) {
          message(o, v->message && v->message[0] ? v->message : id);
          tw_out_str(o, ",\"threadFlows\":[");
        }
        tw_out_str(o, "{\"message\":");
        message(o, v->flow_message[fl]);
        tw_out_str(o, ",\"locations\":[");
        nthreadflows++;
      }
      tw_out_str(o, steps++ ? ",{\"location\":" : "{\"location\":");
      location(o, &st->frames[k], -1, st->message, source_root);
      tw_out_str(o, "}");
    }
    if (steps) tw_out_str(o, "]}");
  }
  if (nthreadflows) tw_out_str(o, "]}]");

  if (v->fingerprint && v->fingerprint[0]) {
    tw_out_str(o, ",\"partialFingerprints\":{\"threadwatch/v1\":");
    tw_out_json_str(o, v->fingerprint);
    tw_out_str(o, "}");
  }
  tw_out_str(o, ",\"properties\":{\"kind\":");
  tw_out_json_str(o, v->kind ? v->kind : "");
  tw_out_str(o, ",\"what\":");
  tw_out_json_str(o, v->what ? v->what : "");
  tw_out_fmt(o, ",\"count\":%u}}", v->count);
}
