/* SPDX-License-Identifier: MIT */
/*
 * ATT's fixed sizes, in one place: every MTU the library accepts, reports
 * or assumes is checked against these.
 */
#pragma once

#ifndef BLEIO_COMPILATION
#error "bleio-att-private.h is internal to libbleio"
#endif

/* LE's smallest and largest ATT MTU (Core Vol 3 Part F 3.2.8, 3.2.9). */
#define BLEIO_ATT_MIN_MTU 23
#define BLEIO_ATT_MAX_MTU 517
/* The MTU of a link before any exchange: the smallest. */
#define BLEIO_ATT_DEFAULT_MTU BLEIO_ATT_MIN_MTU
/* The longest attribute value (Core Vol 3 Part F 3.2.9). */
#define BLEIO_ATT_MAX_VALUE_LEN 512
