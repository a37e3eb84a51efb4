/* SPDX-License-Identifier: MIT */
/*
 * What the recording programs (record-*.c) share: a log of every signal
 * org.bluez sends and every reply to our own calls, in the order the main
 * loop saw them, turned into JSON in the form of tests/data/bluez-5.66
 * (byte arrays "bytes:<hex>", integer dictionary keys as decimal strings),
 * markers in btmon's trace, and the console framing that
 * tests/e2e/extract-records.sh cuts the results out of.
 */
#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

typedef struct _Rec Rec;

/* One call to org.bluez made asynchronously, its answer kept. */
typedef struct {
  gboolean done;
  GVariant *reply;            /* NULL on error */
  char *error_name;           /* the D-Bus error name, or NULL */
  char *error_message;        /* the message without the name */
  double sent;                /* seconds since rec_new() */
  double answered;
  char *what;                 /* "Device1.Connect" */
} RecCall;

Rec *rec_new (GDBusConnection *bus);
void rec_free (Rec *rec);
GDBusConnection *rec_bus (Rec *rec);

/* Seconds since rec_new(). */
double rec_now (Rec *rec);

/* Adds a mark to the event log and to btmon's trace (on controller
 * @hci_index, or none when it is -1); returns the index of the next event. */
guint rec_mark (Rec *rec, int hci_index, const char *fmt, ...) G_GNUC_PRINTF (3, 4);

/* Number of events logged so far. */
guint rec_position (Rec *rec);

/* The events logged since @from whose object path starts with @prefix
 * (NULL: all); marks and replies are always included. */
JsonNode *rec_events (Rec *rec, guint from, const char *prefix);

/* Starts a call; its reply is logged as an event when it arrives. */
RecCall *rec_call (Rec *rec, const char *path, const char *iface,
                   const char *method, GVariant *params, int timeout_msec);
/* Runs the main loop until @call is answered or @timeout_msec passes. */
gboolean rec_call_wait (Rec *rec, RecCall *call, guint timeout_msec);
/* rec_call() and rec_call_wait() with a bound of @timeout_msec + 1 s. */
RecCall *rec_call_sync (Rec *rec, const char *path, const char *iface,
                        const char *method, GVariant *params, int timeout_msec);
/* {"ok": reply} or {"error": name, "message": text}, or {"pending": true}. */
JsonNode *rec_call_json (RecCall *call);
void rec_call_free (RecCall *call);

/* Properties.GetAll(@iface) of @path as JSON, or {"error":...}. */
JsonNode *rec_get_all (Rec *rec, const char *path, const char *iface);
/* One property, or NULL. */
GVariant *rec_get (Rec *rec, const char *path, const char *iface, const char *name);

/* A GVariant in the JSON form of tests/data/bluez-5.66. */
JsonNode *rec_variant_json (GVariant *value);

/* Prints @node on stdout framed by E2E-RECORD-BEGIN/END @name lines, for
 * extract-records.sh; takes @node. */
void rec_print (const char *name, JsonNode *node);

/* Prints the file @path between E2E-RECORD-BEGIN/END @name lines. */
void rec_print_file (const char *name, const char *path);

/* Runs the main loop for @msec. */
void rec_spin (guint msec);

/* Waits until @path has interface @iface in org.bluez's object tree. */
gboolean rec_wait_object (Rec *rec, const char *path, const char *iface,
                          guint timeout_msec);

G_END_DECLS
