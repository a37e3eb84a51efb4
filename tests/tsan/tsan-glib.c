/* SPDX-License-Identifier: MIT */
/*
 * Preloaded (LD_PRELOAD) into the tests of a ThreadSanitizer build: tells
 * TSan about the synchronisation GLib does where TSan cannot see it.
 *
 * Debian's GLib is not instrumented, and on Linux its GMutex and GCond are
 * built on futexes, not pthread mutexes, so TSan sees no happens-before
 * edge from them and reports every access guarded by a GMutex as a race.
 * The same holds for a callback handed to another thread's GMainContext:
 * the context's queue is guarded inside GLib. Each function here wraps
 * the real GLib function (dlsym RTLD_NEXT) and adds the edge with
 * __tsan_acquire() / __tsan_release():
 *   - GMutex, GRecMutex, GRWLock: acquire after lock, release before
 *     unlock; GCond waits release and re-acquire the mutex;
 *   - g_once_init_leave: release on the location (the matching acquire is
 *     the atomic read in the g_once_init_enter macro, which is
 *     instrumented where it is expanded);
 *   - idle and timeout sources made with g_*_source_new, and
 *     g_main_context_invoke*: the callback runs through a trampoline
 *     that acquires what the attaching thread released. g_idle_add*
 *     and g_timeout_add* are left alone: g_idle_remove_by_data() (the
 *     simulator uses it) must still find their sources by user data.
 * Only calls that cross a shared-library boundary reach these wrappers
 * (libbleio, the tests, GIO calling GLib); GLib's calls to itself stay
 * invisible, which is what tests/tsan/tsan.supp is for.
 *
 * The TSan entry points are weak: in a process without TSan (dbus-daemon,
 * shell, python3 started by a test) every wrapper just calls GLib.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <glib.h>

void __tsan_acquire (void *addr) __attribute__ ((weak));
void __tsan_release (void *addr) __attribute__ ((weak));

static void
acquire (const void *addr)
{
  if (__tsan_acquire != NULL)
    __tsan_acquire ((void *) addr);
}

static void
release (const void *addr)
{
  if (__tsan_release != NULL)
    __tsan_release ((void *) addr);
}

#define REAL(ret, name, args) \
  static ret (*real) args; \
  if (real == NULL) \
    *(void **) &real = dlsym (RTLD_NEXT, #name)

/* ---- locks ---- */

void
g_mutex_lock (GMutex *mutex)
{
  REAL (void, g_mutex_lock, (GMutex *));
  real (mutex);
  acquire (mutex);
}

gboolean
g_mutex_trylock (GMutex *mutex)
{
  gboolean locked;
  REAL (gboolean, g_mutex_trylock, (GMutex *));
  locked = real (mutex);
  if (locked)
    acquire (mutex);
  return locked;
}

void
g_mutex_unlock (GMutex *mutex)
{
  REAL (void, g_mutex_unlock, (GMutex *));
  release (mutex);
  real (mutex);
}

void
g_rec_mutex_lock (GRecMutex *mutex)
{
  REAL (void, g_rec_mutex_lock, (GRecMutex *));
  real (mutex);
  acquire (mutex);
}

gboolean
g_rec_mutex_trylock (GRecMutex *mutex)
{
  gboolean locked;
  REAL (gboolean, g_rec_mutex_trylock, (GRecMutex *));
  locked = real (mutex);
  if (locked)
    acquire (mutex);
  return locked;
}

void
g_rec_mutex_unlock (GRecMutex *mutex)
{
  REAL (void, g_rec_mutex_unlock, (GRecMutex *));
  release (mutex);
  real (mutex);
}

void
g_rw_lock_writer_lock (GRWLock *lock)
{
  REAL (void, g_rw_lock_writer_lock, (GRWLock *));
  real (lock);
  acquire (lock);
}

void
g_rw_lock_writer_unlock (GRWLock *lock)
{
  REAL (void, g_rw_lock_writer_unlock, (GRWLock *));
  release (lock);
  real (lock);
}

void
g_rw_lock_reader_lock (GRWLock *lock)
{
  REAL (void, g_rw_lock_reader_lock, (GRWLock *));
  real (lock);
  acquire (lock);
}

void
g_rw_lock_reader_unlock (GRWLock *lock)
{
  REAL (void, g_rw_lock_reader_unlock, (GRWLock *));
  release (lock);
  real (lock);
}

void
g_cond_wait (GCond  *cond,
             GMutex *mutex)
{
  REAL (void, g_cond_wait, (GCond *, GMutex *));
  release (mutex);
  real (cond, mutex);
  acquire (mutex);
}

gboolean
g_cond_wait_until (GCond  *cond,
                   GMutex *mutex,
                   gint64  end_time)
{
  gboolean signalled;
  REAL (gboolean, g_cond_wait_until, (GCond *, GMutex *, gint64));
  release (mutex);
  signalled = real (cond, mutex, end_time);
  acquire (mutex);
  return signalled;
}

void
(g_once_init_leave) (volatile void *location,
                     gsize          result)
{
  REAL (void, g_once_init_leave, (volatile void *, gsize));
  release ((const void *) location);
  real (location, result);
}

gboolean
(g_once_init_enter) (volatile void *location)
{
  gboolean enter;
  REAL (gboolean, g_once_init_enter, (volatile void *));
  enter = real (location);
  if (!enter)
    acquire ((const void *) location);
  return enter;
}

/* ---- callbacks handed to a main context ---- */

typedef struct {
  GSourceFunc func;
  gpointer data;
  GDestroyNotify notify;
} Trampoline;

static gboolean
trampoline_run (gpointer user_data)
{
  Trampoline *t = user_data;
  gboolean again;

  acquire (t);
  again = t->func (t->data);
  release (t);
  return again;
}

static void
trampoline_free (gpointer user_data)
{
  Trampoline *t = user_data;

  acquire (t);
  if (t->notify != NULL)
    t->notify (t->data);
  g_free (t);
}

static Trampoline *
trampoline_new (GSourceFunc    func,
                gpointer       data,
                GDestroyNotify notify)
{
  Trampoline *t = g_new (Trampoline, 1);

  t->func = func;
  t->data = data;
  t->notify = notify;
  release (t);
  return t;
}

void
g_source_set_callback (GSource        *source,
                       GSourceFunc     func,
                       gpointer        data,
                       GDestroyNotify  notify)
{
  REAL (void, g_source_set_callback, (GSource *, GSourceFunc, gpointer, GDestroyNotify));
  /* Only idle and timeout sources call back with (gpointer) alone; other
   * kinds have callbacks of their own signatures and pass through. */
  if (func != NULL && (source->source_funcs == &g_idle_funcs ||
                       source->source_funcs == &g_timeout_funcs))
    {
      Trampoline *t = trampoline_new (func, data, notify);

      real (source, trampoline_run, t, trampoline_free);
      return;
    }
  real (source, func, data, notify);
}

guint
g_source_attach (GSource      *source,
                 GMainContext *context)
{
  REAL (guint, g_source_attach, (GSource *, GMainContext *));
  release (source);
  return real (source, context);
}

void
g_main_context_invoke_full (GMainContext   *context,
                            gint            priority,
                            GSourceFunc     function,
                            gpointer        data,
                            GDestroyNotify  notify)
{
  REAL (void, g_main_context_invoke_full, (GMainContext *, gint, GSourceFunc, gpointer, GDestroyNotify));
  real (context, priority, trampoline_run, trampoline_new (function, data, notify), trampoline_free);
}

void
g_main_context_invoke (GMainContext *context,
                       GSourceFunc   function,
                       gpointer      data)
{
  g_main_context_invoke_full (context, G_PRIORITY_DEFAULT, function, data, NULL);
}
