/* SPDX-License-Identifier: MIT */
#include "agent1.h"

static const char agent1_xml[] =
  "<node>"
  " <interface name='org.bluez.Agent1'>"
  "  <method name='Release'/>"
  "  <method name='RequestPinCode'>"
  "   <arg name='device' type='o' direction='in'/>"
  "   <arg name='pincode' type='s' direction='out'/>"
  "  </method>"
  "  <method name='DisplayPinCode'>"
  "   <arg name='device' type='o' direction='in'/>"
  "   <arg name='pincode' type='s' direction='in'/>"
  "  </method>"
  "  <method name='RequestPasskey'>"
  "   <arg name='device' type='o' direction='in'/>"
  "   <arg name='passkey' type='u' direction='out'/>"
  "  </method>"
  "  <method name='DisplayPasskey'>"
  "   <arg name='device' type='o' direction='in'/>"
  "   <arg name='passkey' type='u' direction='in'/>"
  "   <arg name='entered' type='q' direction='in'/>"
  "  </method>"
  "  <method name='RequestConfirmation'>"
  "   <arg name='device' type='o' direction='in'/>"
  "   <arg name='passkey' type='u' direction='in'/>"
  "  </method>"
  "  <method name='RequestAuthorization'>"
  "   <arg name='device' type='o' direction='in'/>"
  "  </method>"
  "  <method name='AuthorizeService'>"
  "   <arg name='device' type='o' direction='in'/>"
  "   <arg name='uuid' type='s' direction='in'/>"
  "  </method>"
  "  <method name='Cancel'/>"
  " </interface>"
  "</node>";

GDBusInterfaceInfo *
agent1_interface_info (void)
{
  static gsize node;

  if (g_once_init_enter (&node))
    {
      g_autoptr(GError) error = NULL;
      GDBusNodeInfo *info = g_dbus_node_info_new_for_xml (agent1_xml, &error);

      /* A constant of ours: it parses, or the test program is wrong. */
      g_assert_no_error (error);
      g_once_init_leave (&node, (gsize) info);
    }
  return ((GDBusNodeInfo *) node)->interfaces[0];
}
