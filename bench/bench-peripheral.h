/* SPDX-License-Identifier: MIT */
/*
 * The peripheral the notification, write and per-operation benchmarks
 * talk to: one service with a characteristic per path under test. Its
 * MTU (517) lets a notification carry 244 bytes and more.
 */
#pragma once

#define BENCH_PERIPH_ADDRESS "C0:FF:EE:00:0B:01"

/* notify, AcquireNotify allowed: the fd path */
#define BENCH_CHR_NOTIFY_FD 0xaaa1
/* notify, AcquireNotify refused: the Value-signal path */
#define BENCH_CHR_NOTIFY_SIGNAL 0xaaa2
/* read */
#define BENCH_CHR_READ 0xaaa3
/* write-without-response, AcquireWrite allowed: the fd path */
#define BENCH_CHR_WRITE_FD 0xaaa4
/* write-without-response, AcquireWrite refused: the WriteValue path */
#define BENCH_CHR_WRITE_CALL 0xaaa5

#define BENCH_PERIPH_SCENARIO \
  "{ \"adapters\": [ { \"name\": \"hci0\", \"address\": \"00:AA:01:00:00:00\" } ],\n" \
  "  \"peripherals\": [ {\n" \
  "    \"address\": \"" BENCH_PERIPH_ADDRESS "\", \"name\": \"BenchPeripheral\",\n" \
  "    \"advertising_interval_ms\": 50,\n" \
  "    \"connect\": { \"delay_ms\": 1, \"resolve_delay_ms\": 1 },\n" \
  "    \"gatt\": [ { \"uuid\": \"aaa0\", \"characteristics\": [\n" \
  "      { \"uuid\": \"aaa1\", \"flags\": [\"read\", \"notify\"], \"value\": \"00\" },\n" \
  "      { \"uuid\": \"aaa2\", \"flags\": [\"read\", \"notify\"], \"value\": \"00\",\n" \
  "        \"acquire_notify\": false },\n" \
  "      { \"uuid\": \"aaa3\", \"flags\": [\"read\"], \"value\": \"0102030405060708\" },\n" \
  "      { \"uuid\": \"aaa4\", \"flags\": [\"read\", \"write-without-response\"], \"value\": \"00\" },\n" \
  "      { \"uuid\": \"aaa5\", \"flags\": [\"read\", \"write-without-response\"], \"value\": \"00\",\n" \
  "        \"acquire_write\": false }\n" \
  "    ] } ]\n" \
  "  } ]\n" \
  "}\n"
