/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* RFC 2782 ordering of SRV answers: priority first, then weighted random choice. */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include <glib.h>

#include "volact-srv.h"

#define SEED 20260
#define DRAWS 4000

/* Fills T[0..n) from "prio weight port target" quadruples. */
static void
set (VolactSrvTarget *t, guint16 priority, guint16 weight, guint16 port, const char *target)
{
  t->priority = priority;
  t->weight = weight;
  t->port = port;
  t->target = g_strdup (target);
}

static void
test_priority_first (void **unused)
{
  g_autoptr (GRand) rand = g_rand_new_with_seed (SEED);

  (void) unused;
  /* Whatever the weights and the answer's order, a lower priority always comes first. */
  for (guint round = 0; round < 200; round++) {
    VolactSrvTarget t[4];
    guint n;

    set (&t[0], 20, 60000, 4, "backup2");
    set (&t[1], 10, 100, 2, "backup");
    set (&t[2], 0, 1, 1, "main");
    set (&t[3], 10, 0, 3, "backup-zero");
    n = volact_srv_order (t, 4, rand);
    assert_int_equal (n, 4);
    assert_string_equal (t[0].target, "main");
    assert_int_equal (t[1].priority, 10);
    assert_int_equal (t[2].priority, 10);
    assert_string_equal (t[3].target, "backup2");
    assert_int_equal (t[3].port, 4);
    volact_srv_targets_clear (t, n);
  }
}

/* Out of DRAWS orderings of two targets of one priority, how often the one named "heavy" came
 * first. */
static guint
heavy_first (guint16 w0, const char *n0, guint16 w1, const char *n1, GRand *rand)
{
  guint heavy = 0;

  for (guint i = 0; i < DRAWS; i++) {
    VolactSrvTarget t[2];
    set (&t[0], 5, w0, 1000, n0);
    set (&t[1], 5, w1, 1001, n1);
    assert_int_equal (volact_srv_order (t, 2, rand), 2);
    heavy += g_str_equal (t[0].target, "heavy");
    volact_srv_targets_clear (t, 2);
  }
  return heavy;
}

static void
test_weights_split_75_25 (void **unused)
{
  g_autoptr (GRand) rand = g_rand_new_with_seed (SEED);
  guint a, b;

  (void) unused;
  /* 3:1 within one priority: the heavier first 75% of the time, within ±5% (relative), in
   * either answer order (the naive 0..sum draw gives the first one 80% or 60%). */
  a = heavy_first (3, "heavy", 1, "light", rand);
  b = heavy_first (1, "light", 3, "heavy", rand);
  print_message ("heavier first: %u and %u of %u\n", a, b, DRAWS);
  assert_in_range (a, DRAWS * 75 / 100 * 95 / 100, DRAWS * 75 / 100 * 105 / 100);
  assert_in_range (b, DRAWS * 75 / 100 * 95 / 100, DRAWS * 75 / 100 * 105 / 100);
}

static void
test_zero_weight_still_tried (void **unused)
{
  g_autoptr (GRand) rand = g_rand_new_with_seed (SEED);
  guint zero_first = 0;

  (void) unused;
  for (guint i = 0; i < DRAWS; i++) {
    VolactSrvTarget t[3];
    set (&t[0], 0, 10, 1, "ten");
    set (&t[1], 0, 0, 2, "zero");
    set (&t[2], 0, 10, 3, "ten-too");
    /* Every target is in the order, the zero-weight one included. */
    assert_int_equal (volact_srv_order (t, 3, rand), 3);
    assert_true (g_str_equal (t[0].target, "zero") || g_str_equal (t[1].target, "zero")
                 || g_str_equal (t[2].target, "zero"));
    zero_first += g_str_equal (t[0].target, "zero");
    volact_srv_targets_clear (t, 3);
  }
  /* Its small chance to be first is 1 in 21 (sum 20, draws 0..20). */
  assert_in_range (zero_first, 1, DRAWS / 10);

  /* All weights zero: every one is tried, in the answer's order. */
  {
    VolactSrvTarget t[2];
    set (&t[0], 0, 0, 1, "a");
    set (&t[1], 0, 0, 2, "b");
    assert_int_equal (volact_srv_order (t, 2, rand), 2);
    assert_string_equal (t[0].target, "a");
    assert_string_equal (t[1].target, "b");
    volact_srv_targets_clear (t, 2);
  }
}

static void
test_dot_target_means_no_service (void **unused)
{
  g_autoptr (GRand) rand = g_rand_new_with_seed (SEED);
  VolactSrvTarget t[2];

  (void) unused;
  set (&t[0], 0, 0, 0, ".");
  assert_int_equal (volact_srv_order (t, 1, rand), 0);

  set (&t[0], 0, 0, 0, ".");
  set (&t[1], 1, 0, 1688, "host");
  assert_int_equal (volact_srv_order (t, 2, rand), 1);
  assert_string_equal (t[0].target, "host");
  volact_srv_targets_clear (t, 1);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_priority_first),
    cmocka_unit_test (test_weights_split_75_25),
    cmocka_unit_test (test_zero_weight_still_tried),
    cmocka_unit_test (test_dot_target_means_no_service),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
