/* C++ names demangled with the C++ runtime's own __cxa_demangle, looked up in the process. */
#ifndef TW_BASE_DEMANGLE_H
#define TW_BASE_DEMANGLE_H

/* Finds the demangler: __cxa_demangle of the libstdc++ the program loaded. A C++ program built
 * without needing libstdc++ (--as-needed drops it when only C functions are called) still has
 * mangled names: when the executable's symbol tables hold any, libstdc++ is loaded (RTLD_LOCAL)
 * for its demangler. A C program loads nothing. Called once at initialisation (dlopen is safe
 * there, never later from the reporter); later calls do nothing. */
void tw_demangle_init(void);

/* `name` demangled (malloc'd: the caller frees it), or NULL when it is not a mangled C++ name
 * (_Z...) or no demangler was found. */
char *tw_demangle(const char *name);

#endif
