// SPDX-License-Identifier: MIT
// The public header compiled as C++: every declaration sits inside
// G_BEGIN_DECLS, and nothing in it is C-only syntax.
#include <bleio/bleio.h>

int
main ()
{
  GQuark q = bleio_error_quark ();

  return q != 0 ? 0 : 1;
}
