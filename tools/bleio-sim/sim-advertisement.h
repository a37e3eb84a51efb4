/* SPDX-License-Identifier: MIT */
/*
 * One LEAdvertisement1 as bluetoothd 5.66 reads it (floor 3, between
 * sim-air.c and sim-advertising.c): the parsed properties, the length
 * check, what it puts on the air.
 */
#pragma once

#include "sim-air.h"

G_BEGIN_DECLS

typedef struct {
  gboolean peripheral;        /* Type; broadcast when absent */
  GPtrArray *service_uuids;   /* AdvUuid (sim-advertisement.c) */
  GPtrArray *solicit_uuids;
  GPtrArray *mfr;             /* AdvBlob */
  GPtrArray *svc;
  GPtrArray *data;
  guint includes;
  char *name;
  guint16 appearance;
  guint16 duration;
  guint16 timeout;
  guint16 disc_timeout;
  gboolean has_flags;
  guint8 flags;
  guint32 min_interval;       /* 0.625 ms units */
  guint32 max_interval;
  gint tx_power;
  /* set by a parse for sim-advertising.c, which owns the timers: Timeout
   * (re)starts its timer whenever parsed, DiscoverableTimeout likewise
   * (disc_running says whether that timer is to run) */
  gboolean timeout_rearm;
  gboolean disc_rearm;
  gboolean disc_running;
} SimAdvContent;

SimAdvContent *sim_adv_content_new       (void);
void           sim_adv_content_free      (SimAdvContent *adv);
/* parse_advertisement(): every property of @props (a{sv}) in bluetoothd's
 * order, then the checks across them; FALSE where bluetoothd answers
 * "Failed to parse advertisement." */
gboolean       sim_adv_content_parse_all (SimAdvContent *adv,
                                          GVariant      *props);
/* One property of a PropertiesChanged (@value NULL: invalidated); TRUE
 * when it parsed (bluetoothd then refreshes the advertisement). */
gboolean       sim_adv_content_parse_one (SimAdvContent *adv,
                                          const char    *name,
                                          GVariant      *value);
/* Whether the kernel takes it on @adapter (data and scan response). */
gboolean       sim_adv_content_fits      (SimAdvContent *adv,
                                          SimAdapter    *adapter);
/* Makes it what @adapter advertises (sim_air_set_advert()). */
void           sim_adv_content_put_on_air (SimAdvContent *adv,
                                           SimAdapter    *adapter);

/* The bit of SimAdvContent.includes for "local-name" etc. */
enum {
  SIM_ADV_INC_TX_POWER = 1 << 0,
  SIM_ADV_INC_APPEARANCE = 1 << 1,
  SIM_ADV_INC_LOCAL_NAME = 1 << 2,
};

G_END_DECLS
