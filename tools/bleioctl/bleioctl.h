/* SPDX-License-Identifier: MIT */
/*
 * What the files of bleioctl share: the command line as parsed (Ctl), the
 * exit codes, and the entry points of each file. bleioctl.c parses the
 * command line and dispatches; bleioctl-output.c prints (human, JSON, the
 * spinner); the commands live by what they touch: bleioctl-scan.c (scan,
 * info), bleioctl-gatt.c (services, read, write, notify), bleioctl-link.c
 * (connect, pair, disconnect, adapter and the link every command uses),
 * bleioctl-advertise.c (advertise), bleioctl-serve.c (serve, with its
 * file read by bleioctl-serve-file.c).
 */
#pragma once

#include <bleio/bleio.h>
#include <json-glib/json-glib.h>

#include "bleioctl-names.h"

G_BEGIN_DECLS

/* Exit codes, one per class of error; documented in docs/bleioctl.md. */
enum {
  EXIT_OK = 0,
  EXIT_FAILURE_GENERIC = 1,
  EXIT_USAGE = 2,
  EXIT_NOT_FOUND = 3,
  EXIT_TIMEOUT = 4,
  EXIT_CONNECTION = 5,
  EXIT_SECURITY = 6,
  EXIT_NOT_SUPPORTED = 7,
  EXIT_BLUEZ_UNAVAILABLE = 8,
  EXIT_NO_ADAPTER = 9,
  EXIT_BUSY = 10,
  EXIT_INTERRUPTED = 130,
};

#define DEFAULT_TIMEOUT 10.0
/* The longest bounded wait: a day (see parse_timeout()). */
#define MAX_TIMEOUT 86400.0

/* The command line as parsed, and the little state one invocation has. */
typedef struct {
  /* common options */
  char *adapter_name;
  double timeout;
  gboolean timeout_set;
  gboolean json;
  /* command options */
  char *name;
  char *prefix;
  int min_rssi;
  gboolean min_rssi_set;
  int count;
  gboolean no_response;
  gboolean keep;
  gboolean duplicates;
  gboolean passive;
  char *address_type;
  gboolean version;
  gint64 passkey;
  gboolean confirm;
  char **uuids;                 /* advertise */
  char **manufacturer;
  char **service_data;
  char *raw;
  char *scan_response;
  gboolean no_connectable;

  /* state */
  gboolean progress;
  BleioAdapter *adapter;
  GCancellable *cancellable;
} Ctl;

extern Ctl ctl;

/* A command: the arguments after its name; FALSE with @error set fails. */
typedef gboolean (*CtlCommandFunc) (char **args, GError **error);

/* ---- bleioctl.c: arguments every command shares ---- */

gboolean require_address (char       **args,
                          guint        extra_min,
                          guint        extra_max,
                          const char  *usage,
                          GError     **error);
BleioAddress *parse_address (const char  *text,
                             GError     **error);
gboolean same_address (const BleioAddress *a,
                       const BleioAddress *b);
double op_timeout (void);
/* HEX as documented in bleioctl(1): pairs of hex digits, optional 0x and
 * single separators. */
GBytes *hex_decode (const char  *text,
                    GError     **error);

/* A libbleio _async call run to its end on a context of its own, so that
 * Ctrl-C (ctl.cancellable) and a deadline stop it at once:
 *
 *   ctl_wait_begin (&wait, seconds);      (0: no deadline)
 *   bleio_..._async (..., wait.cancellable, ctl_wait_done, &wait);
 *   if (ctl_wait (&wait, error))
 *     value = bleio_..._finish (..., wait.result, error);
 *   ctl_wait_end (&wait, error);
 *
 * ctl_wait() fails with G_IO_ERROR_CANCELLED (Ctrl-C) or
 * BLEIO_ERROR_TIMEOUT when the operation does not answer its cancellation
 * in time; ctl_wait_end() turns a cancellation by the deadline into
 * BLEIO_ERROR_TIMEOUT. */
typedef struct {
  GMainContext *context;
  GCancellable *cancellable;
  GAsyncResult *result;
  double timeout;
  gint64 deadline;
  gulong cancel_id;
  gboolean timed_out;
} CtlWait;

void ctl_wait_begin (CtlWait *wait,
                     double   timeout);
void ctl_wait_done (GObject      *source,
                    GAsyncResult *result,
                    gpointer      user_data);
gboolean ctl_wait (CtlWait  *wait,
                   GError  **error);
void ctl_wait_end (CtlWait  *wait,
                   GError  **error);

/* ---- bleioctl-output.c ---- */

void spinner_begin (const char *label);
void spinner_end (void);
void spinner_shutdown (void);
void out (const char *format, ...) G_GNUC_PRINTF (1, 2);
void note (const char *format, ...) G_GNUC_PRINTF (1, 2);
void out_json (JsonBuilder *builder);
int report_error (const GError *error,
                  int           code);

char *hex_encode (GBytes *bytes);
char *hex_encode_data (const guint8 *data,
                       gsize         len);
char *printable (const char *text);
const char *address_type_name (BleioAddressType type);
void json_add_string_or_null (JsonBuilder *builder,
                              const char  *member,
                              const char  *value);

/* What an advertisement says, as bleioctl shows it. */
typedef struct {
  char *name;
  gboolean has_tx_power;
  int tx_power;
  gboolean has_appearance;
  guint appearance;
  gboolean has_flags;
  guint flags;
  GPtrArray *uuids;             /* char* */
  GPtrArray *manufacturer;      /* char* "0x004c", char* hex, ... pairs */
  GPtrArray *service_data;      /* char* uuid, char* hex, ... pairs */
} AdFields;

void print_entry (const BleioScanEntry *entry,
                  const AdFields       *fields);
/* @entry NULL: the peer is connected and shown from its link. */
void print_info (const BleioAddress   *peer,
                 const BleioScanEntry *entry,
                 const AdFields       *fields,
                 gboolean              paired);
void print_adapter (BleioAdapter *adapter);
void print_services (BleioConnection *connection,
                     GPtrArray       *services);
void print_value (BleioConnection     *connection,
                  BleioCharacteristic *characteristic,
                  GBytes              *value);
void print_written (BleioConnection     *connection,
                    BleioCharacteristic *characteristic,
                    GBytes              *value,
                    BleioWriteType       type);
void print_peer_state (const char *address,
                       const char *member,
                       gboolean    value,
                       const char *human);

/* ---- bleioctl-scan.c ---- */

BleioScanEntry *find_advertiser (const BleioAddress  *address,
                                 GError             **error);
gboolean cmd_scan (char **args, GError **error);
gboolean cmd_info (char **args, GError **error);

/* ---- bleioctl-link.c ---- */

gboolean open_adapter (GError **error);
BleioConnection *find_connection (const BleioAddress *address);
BleioConnection *open_connection (const char  *address_text,
                                  gboolean    *made,
                                  GError     **error);
void close_connection (BleioConnection *connection,
                       gboolean         made);
gboolean cmd_connect (char **args, GError **error);
gboolean cmd_pair (char **args, GError **error);
gboolean cmd_disconnect (char **args, GError **error);
gboolean cmd_adapter (char **args, GError **error);

/* ---- bleioctl-advertise.c ---- */

gboolean cmd_advertise (char **args, GError **error);

/* ---- bleioctl-serve-file.c: the file of serve, checked ---- */

typedef struct {
  BleioUuid *uuid;
  BleioAttributeSecurity read_perm;
  BleioAttributeSecurity write_perm;
  guint max_length;
  gboolean fixed_length;
  GBytes *value;
} DescSpec;

typedef struct {
  BleioUuid *uuid;
  BleioCharacteristicProperties properties;
  BleioAttributeSecurity read_perm;
  BleioAttributeSecurity write_perm;
  guint max_length;
  gboolean fixed_length;
  GBytes *value;
  char *description;
  guint period_ms;              /* 0: no notify stream */
  GPtrArray *payloads;          /* GBytes* */
  GPtrArray *descs;             /* DescSpec* */
} CharSpec;

typedef struct {
  BleioUuid *uuid;
  gboolean primary;
  GPtrArray *chars;             /* CharSpec* */
} ServiceSpec;

void service_spec_free (gpointer data);
/* The services of @file (ServiceSpec*), every key checked; @name the
 * local name (NULL: none). NULL with BLEIO_ERROR_INVALID_ARGUMENT naming
 * the place in the file. */
GPtrArray *serve_parse_file (const char  *file,
                             char       **name,
                             GError     **error);

/* ---- bleioctl-serve.c ---- */

gboolean cmd_serve (char **args, GError **error);

/* ---- bleioctl-gatt.c ---- */

gboolean show_services (char     **args,
                        gboolean   keep_link,
                        GError   **error);
gboolean cmd_services (char **args, GError **error);
gboolean cmd_read (char **args, GError **error);
gboolean cmd_write (char **args, GError **error);
gboolean cmd_notify (char **args, GError **error);

G_END_DECLS
