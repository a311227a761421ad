/* The compiled dispatch of pipelined commands (_fastpath.c), part of _speedups. */
#ifndef STREAMLITE_FASTPATH_H
#define STREAMLITE_FASTPATH_H
#include <Python.h>
#include <stdint.h>

/* v in decimal at out (at most 20 digits); returns the length (snprintf is several
 * times slower, and replies and IDs write a few per entry). Shared by both files. */
static inline int fmt_u64(char *out, uint64_t v) {
    char tmp[20];
    int k = 0;
    do {
        tmp[k++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    for (int i = 0; i < k; i++)
        out[i] = tmp[k - 1 - i];
    return k;
}

/* fast_run's statuses (server/fastpath.py names them) and the kinds of command it runs */
enum { ST_END = 0, ST_HANDOVER = 1, ST_ARGV = 2, ST_ROOM = 3, ST_SLOW = 4, ST_PARTIAL = 5,
       ST_ERROR = 6 };
enum { K_NONE = 0, K_PING = 1, K_ECHO = 2, K_XADD = 3, K_N = 4 };

/* the replies of a run */
typedef struct {
    char *p;
    Py_ssize_t len, cap;
    char small[2048];
} OBuf;

/* one kind's statistics over a run */
#define KSTAT_LOW 16
typedef struct {
    long long calls, usec;
    long long low[KSTAT_LOW]; /* calls per usec below KSTAT_LOW (no allocation) */
    PyObject *hist;           /* {usec: calls} for the others, or NULL */
} KStat;

/* One run of fast_run over a read (the loop both fast_run and _readpath.c's
 * read_received drive): the engine's objects in, where it stopped and why out. */
typedef struct {
    /* in (borrowed) */
    const char *d;
    Py_ssize_t n;
    PyObject *data, *expires, *db_index, *watched, *blocked_on, *effects, *clock, *ks_dirty;
    long long max_entries, max_bytes, ks_cap, observe;
    /* in, and out: where it stopped, the reply room left */
    Py_ssize_t pos;
    long long room;
    /* out: status (ST_*), the last kind run, extra (a new reference: the argv for
     * ST_ARGV, (argv, usec) for ST_SLOW, (name, exception) for ST_ERROR, else None) */
    int status, last;
    long long ncmds, dirty;
    PyObject *extra;
    OBuf out;
    KStat ks[K_N];
} FpRun;

/* fp_run_init before fp_run, fp_run_clear after (frees out, ks and extra); fp_run
 * returns 0, or -1 with an exception set when something failed outside a command */
void fp_run_init(FpRun *r);
int fp_run(FpRun *r);
void fp_run_clear(FpRun *r);
extern PyObject *fp_kind_name[K_N];
extern long long fp_served; /* commands fp_run answered so far (for the tests) */ /* "ping", "echo", "xadd" (after setup_fastpath) */

PyObject *fp_fast_run(PyObject *self, PyObject *const *args, Py_ssize_t nargs);
PyObject *fp_fast_xadd(PyObject *self, PyObject *const *args, Py_ssize_t nargs);
PyObject *fp_parse_ids(PyObject *self, PyObject *const *args, Py_ssize_t nargs);
PyObject *fp_setup(PyObject *self, PyObject *args);
/* shared with _loadpath.c: a stream ID (ms, seq) as Python's int (ms << 64 | seq); the
 * offset of an object slot (a __slots__ member) of a type, TypeError if it is not one */
PyObject *id_long(uint64_t ms, uint64_t seq);
int slot_offset(PyTypeObject *t, const char *name, Py_ssize_t *off);
/* _loadpath.c */
PyObject *lp_stream_nodes(PyObject *self, PyObject *const *args, Py_ssize_t nargs);
PyObject *lp_prefault_heap(PyObject *self, PyObject *arg);
PyObject *lp_trim_heap(PyObject *self, PyObject *unused);
/* _readpath.c */
int rp_add_types(PyObject *m);
PyObject *rp_guard(PyObject *self, PyObject *conn);
PyObject *rp_served(PyObject *self, PyObject *unused);
PyObject *rp_setup(PyObject *self, PyObject *args);

#endif
