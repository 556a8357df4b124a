/* Capability helpers shared by caps.c and process.c but not part of the
 * runtime's public interface: reading and writing this thread's five
 * capability sets as the bit masks of struct runtime_caps. */
#ifndef BERTH_RUNTIME_CAPS_INTERNAL_H
#define BERTH_RUNTIME_CAPS_INTERNAL_H

#include <stdint.h>

#include "lib/berr.h"
#include "runtime/spec.h"

/* The mask of every capability this kernel knows (bits 0..cap_last_cap). */
uint64_t runtime_caps_known_mask(void);

/* Reads the five sets of the calling thread into *out (present is set to
 * true).  Sets BERR_INTERNAL. */
int runtime_caps_get(struct runtime_caps *out, struct berr **err);

/* Drops from the bounding set every capability not in KEEP.  Needs
 * CAP_SETPCAP when anything has to go; sets BERR_FORBIDDEN without it. */
int runtime_caps_drop_bounding(uint64_t keep, struct berr **err);

/* Sets effective, permitted and inheritable with capset(2), then replaces
 * the ambient set with CAPS->ambient.  The bounding set is not touched.
 * Capabilities unknown to the kernel are ignored.  Asking for a capability
 * this thread cannot have is BERR_FORBIDDEN, with its name in the message. */
int runtime_caps_set(const struct runtime_caps *caps, struct berr **err);

#endif
