/* The per-thread stack limit read by every safepoint of generated code
 * (docs/ABI.md "Stack"). It lives in C because Rust has no stable way to
 * define a thread-local variable with a symbol that other objects can name;
 * snowc's code declares it `external thread_local(localexec)`, so a check is
 * one `mov %fs:OFFSET` (the variable is in the executable's static TLS).
 *
 * 0 (a thread that never registered) means no check ever fires. The runtime
 * stores the real limit (stack bottom + reserve), or UINT64_MAX to make the
 * next safepoint enter `snow_check` (a collection wanted, a callback timed
 * out); other threads store through the address from the accessor below. */
#include <stdint.h>

__thread uint64_t snow_stack_limit __attribute__((tls_model("initial-exec"))) = 0;

uint64_t *snow_stack_limit_addr(void) { return &snow_stack_limit; }
