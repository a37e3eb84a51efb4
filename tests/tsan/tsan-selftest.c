/* SPDX-License-Identifier: MIT */
/*
 * Proves the TSan setup can fail and does not cry wolf: with "race" as
 * argument two threads write one counter unguarded (TSan must report it:
 * the test is expected to fail); with "mutex" they write it under a
 * GMutex, and hand a buffer over through g_main_context_invoke (TSan must
 * stay silent, which it does only with tsan-glib.c preloaded).
 */
#include <glib.h>
#include <string.h>

static GMutex lock;
static int counter;
static GMainLoop *loop;

static gpointer
racer (gpointer data)
{
  for (int i = 0; i < 1000; i++)
    {
      if (data != NULL)
        g_mutex_lock (&lock);
      counter++;
      if (data != NULL)
        g_mutex_unlock (&lock);
    }
  return NULL;
}

static gboolean
receive (gpointer data)
{
  char *buffer = data;

  g_assert_cmpstr (buffer, ==, "handed over");
  g_free (buffer);
  g_main_loop_quit (loop);
  return G_SOURCE_REMOVE;
}

static gpointer
sender (gpointer data)
{
  char *buffer = g_malloc (32);

  strcpy (buffer, "handed over");
  g_main_context_invoke (data, receive, buffer);
  return NULL;
}

int
main (int    argc,
      char **argv)
{
  gboolean guarded = argc > 1 && g_str_equal (argv[1], "mutex");
  GThread *a = g_thread_new ("a", racer, guarded ? &lock : NULL);
  GThread *b = g_thread_new ("b", racer, guarded ? &lock : NULL);

  g_thread_join (a);
  g_thread_join (b);
  if (guarded)
    {
      GMainContext *context = g_main_context_default ();

      /* Owned by this thread from now on, so that the sender hands the
       * buffer over instead of running the callback itself. */
      g_assert_true (g_main_context_acquire (context));
      loop = g_main_loop_new (context, FALSE);
      g_thread_unref (g_thread_new ("sender", sender, context));
      g_main_loop_run (loop);
      g_main_loop_unref (loop);
      g_main_context_release (context);
    }
  return counter > 0 ? 0 : 1;
}
