/* SPDX-License-Identifier: MIT */
/* Must NOT compile: per-object headers refuse direct inclusion. */
#include <bleio/bleio-error.h>

int
main (void)
{
  return 0;
}
