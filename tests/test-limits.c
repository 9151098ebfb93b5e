/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The per-source limits table of the client listener
 * (core/serving/volact-limits.c, docs/limits.md) without sockets: addresses
 * and monotonic times go in, decisions come out.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <string.h>
#include <sys/socket.h>

#include "volact-limits.h"

#define SEC ((gint64) G_USEC_PER_SEC)
#define T0 (1000 * SEC) /* any monotonic time */

static const VolactLimitsConfig defaults = {
  .rate = 10, .burst = 20, .connections = 64, .new_cmids = 1000, .window = 3600,
  .capacity = 16384, .exempt = NULL,
};

static VolactSource *
source (VolactLimits *l, const char *text, gint64 now)
{
  guint8 addr[16];

  if (inet_pton (AF_INET, text, addr) == 1)
    return volact_limits_source (l, AF_INET, addr, now);
  assert_int_equal (inet_pton (AF_INET6, text, addr), 1);
  return volact_limits_source (l, AF_INET6, addr, now);
}

/* A burst of 20 passes, the 21st is refused; the bucket refills at 10 a second. */
static void
test_token_bucket (void **state)
{
  VolactLimits *l = volact_limits_new (&defaults);
  VolactSource *s = source (l, "192.0.2.1", T0);
  VolactSource *other = source (l, "192.0.2.2", T0);

  (void) state;
  for (int i = 0; i < 20; i++)
    assert_true (volact_limits_take (l, s, T0));
  assert_false (volact_limits_take (l, s, T0));
  assert_false (volact_limits_take (l, s, T0 + SEC / 20)); /* half a token */
  assert_true (volact_limits_take (l, s, T0 + SEC / 10));
  assert_false (volact_limits_take (l, s, T0 + SEC / 10));
  /* Another source is served as before. */
  for (int i = 0; i < 20; i++)
    assert_true (volact_limits_take (l, other, T0));
  /* A long quiet time refills to the burst, not beyond. */
  for (int i = 0; i < 20; i++)
    assert_true (volact_limits_take (l, s, T0 + 3600 * SEC));
  assert_false (volact_limits_take (l, s, T0 + 3600 * SEC));
  volact_limits_free (l);
}

/* One IPv6 /64 is one source; an IPv4-mapped address is its IPv4 address; exempt ones pass. */
static void
test_sources (void **state)
{
  char *exempt[] = { "127.0.0.1", "2001:db8:9::1", NULL };
  VolactLimitsConfig cfg = defaults;
  VolactLimits *l;
  char text[VOLACT_LIMITS_SOURCE_TEXT];

  (void) state;
  cfg.exempt = exempt;
  l = volact_limits_new (&cfg);
  assert_ptr_equal (source (l, "2001:db8:1:2::1", T0), source (l, "2001:db8:1:2:ffff::7", T0));
  assert_ptr_not_equal (source (l, "2001:db8:1:2::1", T0), source (l, "2001:db8:1:3::1", T0));
  assert_ptr_equal (source (l, "::ffff:192.0.2.9", T0), source (l, "192.0.2.9", T0));
  volact_limits_source_text (source (l, "2001:db8:1:2::1", T0), text);
  assert_string_equal (text, "2001:db8:1:2::/64");
  volact_limits_source_text (source (l, "::ffff:192.0.2.9", T0), text);
  assert_string_equal (text, "192.0.2.9");
  /* What the blocking servers' per-source caps count by (volact-accept.c): the same. */
  {
    guint8 v6[16], mapped[16], v4[4];
    assert_int_equal (inet_pton (AF_INET6, "2001:db8:1:2:ffff::7", v6), 1);
    assert_int_equal (inet_pton (AF_INET6, "::ffff:192.0.2.9", mapped), 1);
    assert_int_equal (inet_pton (AF_INET, "192.0.2.9", v4), 1);
    volact_limits_address_source (AF_INET6, v6, text);
    assert_string_equal (text, "2001:db8:1:2::/64");
    volact_limits_address_source (AF_INET6, mapped, text);
    assert_string_equal (text, "192.0.2.9");
    volact_limits_address_source (AF_INET, v4, text);
    assert_string_equal (text, "192.0.2.9");
  }

  for (int i = 0; i < 1000; i++) {
    assert_true (volact_limits_take (l, source (l, "127.0.0.1", T0), T0));
    assert_true (volact_limits_take (l, source (l, "2001:db8:9::5", T0), T0));
    assert_true (volact_limits_cmid_allowed (l, source (l, "127.0.0.1", T0), T0));
  }
  assert_false (volact_limits_cmid_applies (l, source (l, "127.0.0.1", T0)));
  assert_true (volact_limits_cmid_applies (l, source (l, "127.0.0.2", T0)));
  for (int i = 0; i < 20; i++)
    assert_true (volact_limits_take (l, source (l, "127.0.0.2", T0), T0));
  assert_false (volact_limits_take (l, source (l, "127.0.0.2", T0), T0));
  volact_limits_free (l);
}

static void
test_connection_cap (void **state)
{
  VolactLimitsConfig cfg = defaults;
  VolactLimits *l;
  VolactSource *s;

  (void) state;
  cfg.connections = 3;
  l = volact_limits_new (&cfg);
  s = source (l, "192.0.2.1", T0);
  for (int i = 0; i < 3; i++)
    assert_true (volact_limits_conn_open (l, s));
  assert_false (volact_limits_conn_open (l, s));
  assert_true (volact_limits_conn_open (l, source (l, "192.0.2.2", T0)));
  volact_limits_conn_close (l, s);
  assert_true (volact_limits_conn_open (l, s));
  assert_false (volact_limits_conn_open (l, s));
  volact_limits_free (l);
}

/* A quota of new machine IDs per window, renewed when the window has passed. */
static void
test_new_cmid_quota (void **state)
{
  VolactLimitsConfig cfg = defaults;
  VolactLimits *l;
  VolactSource *s;

  (void) state;
  cfg.new_cmids = 5;
  cfg.window = 60;
  l = volact_limits_new (&cfg);
  s = source (l, "192.0.2.1", T0);
  for (int i = 0; i < 5; i++) {
    assert_true (volact_limits_cmid_allowed (l, s, T0 + i));
    volact_limits_cmid_taken (l, s);
  }
  assert_false (volact_limits_cmid_allowed (l, s, T0 + 59 * SEC));
  assert_true (volact_limits_cmid_allowed (l, source (l, "192.0.2.2", T0), T0));
  assert_true (volact_limits_cmid_allowed (l, s, T0 + 60 * SEC));
  volact_limits_free (l);
}

/*
 * A flood of distinct sources: the table stays at its capacity (and its
 * memory with it), the least recently seen go first, and a source holding a
 * connection is never forgotten (its entry and count stay valid).
 */
static void
test_memory_bound (void **state)
{
  VolactLimitsConfig cfg = defaults;
  VolactLimits *l;
  VolactSource *held, *recent = NULL;
  gsize memory_at_capacity = 0;
  char text[VOLACT_LIMITS_SOURCE_TEXT];

  (void) state;
  cfg.capacity = 1000;
  cfg.connections = 2;
  l = volact_limits_new (&cfg);
  held = source (l, "198.51.100.1", T0);
  assert_true (volact_limits_conn_open (l, held));
  assert_true (volact_limits_conn_open (l, held));
  for (guint32 i = 0; i < 200000; i++) {
    guint8 addr[4];
    guint32 be = g_htonl (0x0A000000u + i); /* 10.0.0.0/8 */
    gint64 now = T0 + i;

    memcpy (addr, &be, 4);
    volact_limits_source (l, AF_INET, addr, now);
    if (i % 100 == 0)
      recent = source (l, "203.0.113.5", now); /* seen often: stays */
    if (i == 999)
      memory_at_capacity = volact_limits_memory (l);
    assert_true (volact_limits_size (l) <= 1000);
  }
  assert_int_equal (volact_limits_size (l), 1000);
  assert_int_equal (volact_limits_memory (l), memory_at_capacity);
  assert_true (volact_limits_memory (l) < 200 * 1000);
  /* Still the same entries (not recreated with fresh counts). */
  assert_ptr_equal (source (l, "203.0.113.5", T0 + 200000), recent);
  assert_ptr_equal (source (l, "198.51.100.1", T0 + 200000), held);
  volact_limits_source_text (held, text);
  assert_string_equal (text, "198.51.100.1");
  assert_false (volact_limits_conn_open (l, held)); /* its 2 connections still count */
  volact_limits_free (l);
}

/*
 * Reporting: one episode per steady flood, again after a quiet minute; at
 * most VOLACT_LIMITS_REPORTS_PER_MINUTE events a minute, the rest counted.
 */
static void
test_reports (void **state)
{
  VolactLimits *l = volact_limits_new (&defaults);
  VolactSource *s = source (l, "192.0.2.1", T0);
  gboolean became;
  guint64 suppressed;
  guint due = 0;

  (void) state;
  assert_true (volact_limits_refused (l, s, VOLACT_LIMIT_RATE, T0, &became, &suppressed));
  assert_true (became);
  for (int i = 1; i <= 600; i++) { /* refused every 100 ms for a minute */
    assert_false (
        volact_limits_refused (l, s, VOLACT_LIMIT_RATE, T0 + i * SEC / 10, &became, &suppressed));
    assert_false (became);
  }
  /* Another kind is its own episode. */
  assert_true (
      volact_limits_refused (l, s, VOLACT_LIMIT_NEW_CMIDS, T0 + 61 * SEC, &became, &suppressed));
  /* Quiet for a minute: a new episode. */
  assert_true (
      volact_limits_refused (l, s, VOLACT_LIMIT_RATE, T0 + 125 * SEC, &became, &suppressed));
  assert_true (became);

  /* 100 sources become limited within a minute: 16 events, then one that tells the rest. */
  for (int i = 0; i < 100; i++) {
    char addr[32];
    g_snprintf (addr, sizeof addr, "10.1.0.%d", i);
    if (volact_limits_refused (l, source (l, addr, T0 + 200 * SEC), VOLACT_LIMIT_RATE,
                               T0 + 200 * SEC, &became, &suppressed))
      due++;
    assert_true (became);
  }
  assert_int_equal (due, VOLACT_LIMITS_REPORTS_PER_MINUTE);
  assert_true (volact_limits_refused (l, source (l, "10.2.0.1", T0 + 261 * SEC), VOLACT_LIMIT_RATE,
                                      T0 + 261 * SEC, &became, &suppressed));
  assert_int_equal (suppressed, 100 - VOLACT_LIMITS_REPORTS_PER_MINUTE);
  volact_limits_free (l);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_token_bucket),   cmocka_unit_test (test_sources),
    cmocka_unit_test (test_connection_cap), cmocka_unit_test (test_new_cmid_quota),
    cmocka_unit_test (test_memory_bound),   cmocka_unit_test (test_reports),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
