/* libseccomp's own <seccomp.h>.  The runtime's sources are compiled with
 * their own folder on the include path, where runtime/seccomp.h would
 * shadow the system header of the same name; this file is reached through
 * the top of the tree, so #include_next goes on to the system directories. */
#ifndef BERTH_RUNTIME_SECCOMP_SYS_H
#define BERTH_RUNTIME_SECCOMP_SYS_H

#include_next <seccomp.h>

#endif
