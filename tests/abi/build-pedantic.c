/* SPDX-License-Identifier: MIT */
/* Compiled as strict C99 with -pedantic -Werror: the public header must be
 * usable from any conforming C program, not only from gnu11 ones. */
#include <bleio/bleio.h>

int
main (void)
{
  GQuark q = bleio_error_quark ();

  return q != 0 ? 0 : 1;
}
