/* The compiled per-read path of the server (part of streamlite._speedups).
 *
 * The model: an unpipelined client sends one command per read, and for PING / ECHO /
 * XADD the Python around the command (Connection.data_received, the guard
 * fastpath.usable, fastpath.run and its statistics, Server.end_batch, Connection.flush)
 * cost about as much as Redis's whole command. read_received is bound as each
 * connection's data_received (server/connection.py, while fastpath.fast_run is the
 * compiled one) and does, for the common case, what those do, from the bytes read to
 * transport.write of the replies:
 *
 *   - it checks, changing nothing, that the read is the common case: the connection is
 *     open, at a command boundary (no fast_tail, no RequestParser), nothing waits in
 *     its output (out, the transport's buffer), and the guard holds (rp_usable: the
 *     twin of server/fastpath.py usable and engine/fastpath.py usable, condition for
 *     condition; tests/server/test_readpath.py compares them); else the Python
 *     Connection.data_received runs the read, as without this file;
 *   - the prologue of data_received (net_in, reads_processed, last_interaction_ms,
 *     batch_started);
 *   - fast_run's loop (fp_run, _fastpath.c) over the read with REPLY_BUF of room, and
 *     its statistics as fastpath.run and count_calls add them (rp_count);
 *   - when the whole read ran: end_batch's common case (no blocked clients to serve or
 *     resume, no AOF or replica to stage for, no other client to flush: rp_quiet) as
 *     Connection.flush writes (net_out, writes_processed, transport.write, the output
 *     limits when the kernel did not take it all); otherwise the replies go to
 *     conn.out and Server.end_batch runs.
 *
 * When fast_run stops early (a command for Python's path, the slow log, the room,
 * a partial command, input it does not parse, a failing command) the replies so far go
 * to conn.out and Connection._fast_resume goes on from there as data_received would.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "_fastpath.h"

static struct {
    PyObject *py_received; /* Connection.data_received: the Python path */
    PyObject *py_resume;   /* Connection._fast_resume */
    PyObject *globals;     /* server/fastpath.py's globals: fast_run, looked up per read */
    PyObject *fast_run;    /* the compiled fast_run, which must be the one in place */
    PyObject *system_clock;
    PyObject *cmd[K_N]; /* last_command per kind: None, PING, ECHO, XADD */
    long long reply_buf;
    long long served; /* commands answered by ReadPaths (for the tests) */
} RP;

static PyObject *S_closed, *S_waiting, *S_close_after_reply, *S_throttled, *S_sliced,
    *S_parser, *S_fast_tail, *S_out, *S_transport, *S_server, *S_client, *S_engine,
    *S_get_write_buffer_size, *S_paused_until, *S_loading, *S_reply_mode, *S_multi,
    *S_authenticated, *S_user, *S_unrestricted, *S_channels, *S_patterns, *S_shard_channels,
    *S_tracking, *S_closing, *S_blocked, *S_is_master, *S_write_error, *S_read_only, *S_busy,
    *S_on_command, *S_hotkeys, *S__depth, *S__unit_outer, *S_config, *S_maxmemory,
    *S_notify, *S_db, *S_lrm, *S__commands, *S_b_xadd, *S_b_ping, *S_b_echo, *S_net_in,
    *S_reads_processed, *S_last_interaction_ms, *S_batch_started, *S_clock, *S_ms, *S_data,
    *S_expires, *S_db_index, *S_watched, *S_blocked_on, *S_effects, *S_max_entries,
    *S_max_bytes, *S__observe_usec, *S_ks_dirty, *S_ks_cap, *S_cmds, *S_dirty,
    *S_last_command, *S_command_stats, *S_stats_commands, *S__lat_tracking, *S_latency_big,
    *S_room, *S_ready_keys, *S_resume, *S_persistence, *S_writer, *S_listeners, *S_net_out,
    *S_writes_processed, *S_write, *S_check_output_limits, *S_write_paused, *S_loop,
    *S_call_soon, *S_unthrottle, *S_end_batch, *S_fast_run;

/* -- attributes ------------------------------------------------------------------------
 *
 * The objects read here (Connection, Server, Client, Engine) keep their attributes in
 * their __dict__: aget looks there first (the dict made from the instance's values the
 * first time, as vars() would), which skips the type's lookup PyObject_GetAttr does
 * first; a name not there (a slot, a property) takes PyObject_GetAttr. An attribute
 * found in the instance's dict cannot have a data descriptor on the type (its
 * assignment would have gone to the descriptor), so both give the same value. */

static inline PyObject *dict_of(PyObject *o) {
    PyObject **dp = _PyObject_GetDictPtr(o);
    return dp ? *dp : NULL;
}

/* o.name (a new reference), NULL with an error set */
static inline PyObject *aget(PyObject *o, PyObject *name) {
    PyObject *d = dict_of(o);
    if (d) {
        PyObject *v = PyDict_GetItemWithError(d, name);
        if (v)
            return Py_NewRef(v);
        if (PyErr_Occurred())
            return NULL;
    }
    return PyObject_GetAttr(o, name);
}

/* o.name = v */
static inline int aset(PyObject *o, PyObject *name, PyObject *v) {
    PyObject *d = dict_of(o);
    if (d) {
        int has = PyDict_Contains(d, name);
        if (has)
            return has < 0 ? -1 : PyDict_SetItem(d, name, v);
    }
    return PyObject_SetAttr(o, name, v);
}

/* 1 when o.name is true, 0 when false, -1 on an error (left set) */
static int attr_true(PyObject *o, PyObject *name) {
    PyObject *v = aget(o, name);
    if (!v)
        return -1;
    int r = v == Py_None || v == Py_False ? 0 : v == Py_True ? 1 : PyObject_IsTrue(v);
    Py_DECREF(v);
    return r;
}

/* 1 when o.name is None, 0 when not, -1 on an error */
static int attr_none(PyObject *o, PyObject *name) {
    PyObject *v = aget(o, name);
    if (!v)
        return -1;
    int r = v == Py_None;
    Py_DECREF(v);
    return r;
}

static long long attr_ll(PyObject *o, PyObject *name) {
    PyObject *v = aget(o, name);
    if (!v)
        return -1;
    long long r = PyLong_AsLongLong(v);
    Py_DECREF(v);
    return r;
}

/* a config value as int(cfg[key]) */
static long long cfg_ll(PyObject *cfg, PyObject *key) {
    PyObject *v = PyObject_GetItem(cfg, key);
    if (!v)
        return -1;
    PyObject *i = PyNumber_Long(v);
    Py_DECREF(v);
    if (!i)
        return -1;
    long long r = PyLong_AsLongLong(i);
    Py_DECREF(i);
    return r;
}

/* 1 when cfg[key] is true, 0 when false, -1 on an error */
static int cfg_true(PyObject *cfg, PyObject *key) {
    PyObject *v = PyObject_GetItem(cfg, key);
    if (!v)
        return -1;
    int r = PyObject_IsTrue(v);
    Py_DECREF(v);
    return r;
}

/* -- the guard ------------------------------------------------------------------------- */

#define NOT(expr)                                                                          \
    do {                                                                                   \
        if ((expr) != 0)                                                                   \
            return 0;                                                                      \
    } while (0)
#define NONE(o, name)                                                                      \
    do {                                                                                   \
        if (attr_none(o, name) != 1)                                                       \
            return 0;                                                                      \
    } while (0)

/* engine/fastpath.py usable(eng, c), condition for condition: 1 when it holds, 0 when
 * not (or when an attribute could not be read: an error may be set) */
static int engine_usable(PyObject *eng, PyObject *c) {
    PyObject *v = aget(c, S_reply_mode);
    if (!v)
        return 0;
    int on = PyBytes_CheckExact(v) && PyBytes_GET_SIZE(v) == 2 &&
             memcmp(PyBytes_AS_STRING(v), "on", 2) == 0;
    Py_DECREF(v);
    if (!on)
        return 0;
    NONE(c, S_multi);
    if (attr_true(c, S_authenticated) != 1)
        return 0;
    PyObject *user = aget(c, S_user);
    if (!user)
        return 0;
    int unrestricted = attr_true(user, S_unrestricted);
    Py_DECREF(user);
    if (unrestricted != 1)
        return 0;
    NOT(attr_true(c, S_channels));
    NOT(attr_true(c, S_patterns));
    NOT(attr_true(c, S_shard_channels));
    NONE(c, S_tracking);
    NOT(attr_true(c, S_closing));
    NONE(c, S_blocked);
    NOT(attr_true(c, S_is_master));
    NOT(attr_true(eng, S_loading));
    NONE(eng, S_write_error);
    NONE(eng, S_read_only);
    NONE(eng, S_busy);
    NONE(eng, S_on_command);
    NONE(eng, S_hotkeys);
    NONE(eng, S_tracking);
    NOT(attr_true(eng, S__depth));
    NONE(eng, S__unit_outer);
    PyObject *cfg = aget(eng, S_config);
    if (!cfg)
        return 0;
    int off = cfg_true(cfg, S_maxmemory) == 0 && cfg_true(cfg, S_notify) == 0;
    Py_DECREF(cfg);
    if (!off)
        return 0;
    PyObject *db = aget(c, S_db);
    if (!db)
        return 0;
    int lrm = attr_none(db, S_lrm);
    Py_DECREF(db);
    if (lrm != 1)
        return 0;
    PyObject *cmds = aget(eng, S__commands);
    if (!cmds)
        return 0;
    int same = PyDict_CheckExact(cmds) && PyDict_GetItemWithError(cmds, S_b_xadd) == RP.cmd[K_XADD] &&
               PyDict_GetItemWithError(cmds, S_b_ping) == RP.cmd[K_PING] &&
               PyDict_GetItemWithError(cmds, S_b_echo) == RP.cmd[K_ECHO];
    Py_DECREF(cmds);
    return same;
}

/* server/fastpath.py usable(conn), given the connection's server, engine and client */
static int rp_usable(PyObject *conn, PyObject *srv, PyObject *eng, PyObject *c) {
    NOT(attr_true(conn, S_waiting));
    NOT(attr_true(conn, S_closed));
    NOT(attr_true(conn, S_close_after_reply));
    NOT(attr_true(srv, S_paused_until));
    NOT(attr_true(srv, S_loading));
    return engine_usable(eng, c);
}

/* guard(conn) -> bool: rp_usable, for the tests that compare it with the Python guard */
PyObject *rp_guard(PyObject *self, PyObject *conn) {
    PyObject *srv = aget(conn, S_server), *eng = NULL, *c = NULL;
    int r = 0;
    if (srv && (eng = aget(conn, S_engine)) && (c = aget(conn, S_client)))
        r = rp_usable(conn, srv, eng, c);
    Py_XDECREF(srv);
    Py_XDECREF(eng);
    Py_XDECREF(c);
    if (PyErr_Occurred())
        return NULL;
    return PyBool_FromLong(r);
}

/* The state a read needs (new references) */
typedef struct {
    PyObject *srv, *eng, *c, *tr, *out, *db, *cfg;
} Refs;

static void refs_clear(Refs *r) {
    Py_CLEAR(r->srv);
    Py_CLEAR(r->eng);
    Py_CLEAR(r->c);
    Py_CLEAR(r->tr);
    Py_CLEAR(r->out);
    Py_CLEAR(r->db);
    Py_CLEAR(r->cfg);
}

static inline int is_zero_call(PyObject *obj, PyObject *meth) {
    PyObject *v = PyObject_CallMethodNoArgs(obj, meth);
    if (!v)
        return -1;
    int r = v == Py_None ? 0 : PyObject_IsTrue(v);
    Py_DECREF(v);
    return r < 0 ? -1 : !r;
}

/* 1 when the read is the common case (see the top): nothing changed yet, 0 otherwise
 * (an error may be set: the Python path runs the read and meets it again) */
static int common_case(PyObject *conn, Refs *r) {
    NOT(attr_true(conn, S_closed));
    NOT(attr_true(conn, S_throttled));
    NOT(attr_true(conn, S_sliced));
    NONE(conn, S_parser);
    PyObject *tail = aget(conn, S_fast_tail);
    if (!tail)
        return 0;
    int empty = PyBytes_CheckExact(tail) && PyBytes_GET_SIZE(tail) == 0;
    Py_DECREF(tail);
    if (!empty)
        return 0;
    if (!(r->out = aget(conn, S_out)) || !PyList_CheckExact(r->out) ||
        PyList_GET_SIZE(r->out))
        return 0;
    if (!(r->tr = aget(conn, S_transport)) || r->tr == Py_None ||
        is_zero_call(r->tr, S_get_write_buffer_size) != 1)
        return 0;
    if (!(r->srv = aget(conn, S_server)) ||
        !(r->eng = aget(conn, S_engine)) ||
        !(r->c = aget(conn, S_client)) || !rp_usable(conn, r->srv, r->eng, r->c))
        return 0;
    if (!(r->db = aget(r->c, S_db)) || !(r->cfg = aget(r->eng, S_config)))
        return 0;
    return 1;
}


/* lst[i] += d for a list of ints */
static int item_add(PyObject *lst, Py_ssize_t i, long long d) {
    PyObject *v = PyList_GET_ITEM(lst, i), *dv = PyLong_FromLongLong(d);
    PyObject *s = dv ? PyNumber_Add(v, dv) : NULL;
    Py_XDECREF(dv);
    if (!s)
        return -1;
    PyList_SetItem(lst, i, s); /* steals s, drops the old value */
    return 0;
}

/* engine/fastpath.py add_latency: calls of usec each in the histogram of st */
static int add_latency(PyObject *eng, PyObject *name, PyObject *st, long long usec,
                       long long calls) {
    if (usec < 1024) {
        PyObject *h = PyList_GET_ITEM(st, 4);
        if (h == Py_None) {
            if (!(h = PyList_New(1024)))
                return -1;
            for (Py_ssize_t i = 0; i < 1024; i++)
                PyList_SET_ITEM(h, i, PyLong_FromLong(0));
            PyList_SetItem(st, 4, h); /* steals h */
        }
        if (!PyList_CheckExact(h) || PyList_GET_SIZE(h) != 1024) {
            PyErr_SetString(PyExc_RuntimeError, "readpath: a latency histogram is not 1024 ints");
            return -1;
        }
        return item_add(h, usec, calls);
    }
    PyObject *big = aget(eng, S_latency_big), *per = NULL, *u = NULL, *nv = NULL;
    int rc = -1;
    if (!big || !PyDict_CheckExact(big))
        goto done;
    per = PyDict_GetItemWithError(big, name);
    if (per) {
        Py_INCREF(per);
    } else if (PyErr_Occurred() || !(per = PyDict_New()) || PyDict_SetItem(big, name, per) < 0) {
        goto done;
    }
    if (!(u = PyLong_FromLongLong(usec)))
        goto done;
    PyObject *old = PyDict_GetItemWithError(per, u);
    if (!old && PyErr_Occurred())
        goto done;
    if (!(nv = PyLong_FromLongLong((old ? PyLong_AsLongLong(old) : 0) + calls)))
        goto done;
    rc = PyDict_SetItem(per, u, nv);
done:
    Py_XDECREF(big);
    Py_XDECREF(per);
    Py_XDECREF(u);
    Py_XDECREF(nv);
    return rc;
}

/* -- what a read needs, kept between reads ---------------------------------------------
 *
 * The guard and the read's inputs are some forty attributes, nearly all of which change
 * rarely. A ReadPath (one per connection, its data_received) and the ReadCache it
 * shares with the other connections of its server keep what the last full check
 * (full_check) found, with the version of each dict it was read from: ma_version_tag,
 * which every change of a dict sets to a new value of a global counter. While the
 * instance dicts of the connection, its client, the server and the engine, the config
 * dict, the command table and the persistence object's dict are at the versions this
 * file's own writes left them at (tset, tadd), none of those attributes changed; what
 * can change without such a write (the contents of out, of the subscription sets and
 * of the blocked-client queues, user.unrestricted, db.lrm, the transport's buffer) is
 * checked again at each read (cached_ok, quiet). A change of any of those dicts by
 * anything else sends the next read through the full check.
 */

#if PY_VERSION_HEX < 0x030E0000
#define CACHING 1
#if defined(__GNUC__)
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
#endif
static inline uint64_t dver(PyObject *d) { return ((PyDictObject *)d)->ma_version_tag; }
#else
#define CACHING 0 /* no ma_version_tag: the full check at every read */
static inline uint64_t dver(PyObject *d) { return 0; }
#endif

typedef struct {
    PyObject *d; /* the dict (owned: never a dangling pointer to compare) */
    uint64_t ver;
} Seen;

static inline void seen_now(Seen *s, PyObject *d) {
    Py_XSETREF(s->d, Py_XNewRef(d));
    s->ver = d ? dver(d) : 0;
}

static inline int seen_same(Seen *s) { return s->d && dver(s->d) == s->ver; }

/* the server's part (one per server, shared by its connections' ReadPaths) */
typedef struct {
    PyObject_HEAD
    int busy, valid, p_quiet;
    Seen srv, eng, cfg, cmds, p;
    PyObject *srv_o, *eng_o, *p_o, *cfg_o, *ready_keys, *resume, *dirty_set, *listeners,
        *watched, *blocked_on, *effects, *command_stats, *clock, *latency_big;
    long long max_entries, max_bytes, observe;
    int lat_tracking;
} ReadCache;

/* the connection's part, and its data_received */
typedef struct {
    PyObject_HEAD
    vectorcallfunc vectorcall;
    PyObject *conn;
    ReadCache *cache;
    int valid;
    Seen conn_d, c_d;
    PyObject *srv, *eng, *c, *tr, *out, *db, *db_index, *user, *channels, *patterns, *shard;
} ReadPath;

#define CACHE_FIELDS(X)                                                                    \
    X(srv_o) X(eng_o) X(p_o) X(cfg_o) X(ready_keys) X(resume) X(dirty_set) X(listeners)   \
    X(watched) X(blocked_on) X(effects) X(command_stats) X(clock) X(latency_big)
#define PATH_FIELDS(X)                                                                     \
    X(srv) X(eng) X(c) X(tr) X(out) X(db) X(db_index) X(user) X(channels) X(patterns)     \
    X(shard)

/* o's instance dict when it holds every name of names (NULL-terminated), else NULL */
static PyObject *dict_with(PyObject *o, PyObject **names) {
    PyObject *d = dict_of(o);
    if (!d || !PyDict_CheckExact(d))
        return NULL;
    for (; *names; names++) {
        int has = PyDict_Contains(d, *names);
        if (has != 1)
            return NULL;
    }
    return d;
}

/* d[name] = v on a tracked dict: *intact drops when something else changed d since */
static inline int tset(Seen *s, int *intact, PyObject *name, PyObject *v) {
    if (dver(s->d) != s->ver)
        *intact = 0;
    if (PyDict_SetItem(s->d, name, v) < 0)
        return -1;
    s->ver = dver(s->d);
    return 0;
}

/* d[name] += delta on a tracked dict */
static int tadd(Seen *s, int *intact, PyObject *name, long long delta) {
    PyObject *v = PyDict_GetItemWithError(s->d, name);
    if (!v) {
        if (!PyErr_Occurred())
            PyErr_Format(PyExc_AttributeError, "readpath: no attribute %R", name);
        return -1;
    }
    PyObject *dv = PyLong_FromLongLong(delta), *sum = dv ? PyNumber_Add(v, dv) : NULL;
    Py_XDECREF(dv);
    if (!sum)
        return -1;
    int r = tset(s, intact, name, sum);
    Py_DECREF(sum);
    return r;
}

static inline int empty_list(PyObject *o) { return PyList_CheckExact(o) && !PyList_GET_SIZE(o); }
static inline int empty_set(PyObject *o) { return PyAnySet_CheckExact(o) && !PySet_GET_SIZE(o); }
static inline int empty_dict(PyObject *o) { return PyDict_CheckExact(o) && !PyDict_GET_SIZE(o); }

/* The conditions no dict version covers: 1 when they hold */
static int dynamic_ok(ReadPath *rp) {
    if (!empty_list(rp->out) || !empty_set(rp->channels) || !empty_set(rp->patterns) ||
        !empty_set(rp->shard) || attr_true(rp->user, S_unrestricted) != 1 ||
        attr_none(rp->db, S_lrm) != 1)
        return 0;
    return is_zero_call(rp->tr, S_get_write_buffer_size) == 1;
}

/* What the last full check found still holds (every version as left) */
static int cached_ok(ReadPath *rp) {
    ReadCache *k = rp->cache;
    return CACHING && rp->valid && k->valid && rp->srv == k->srv_o && rp->eng == k->eng_o &&
           dict_of(rp->conn) == rp->conn_d.d && seen_same(&rp->conn_d) &&
           dict_of(rp->c) == rp->c_d.d && seen_same(&rp->c_d) &&
           dict_of(k->srv_o) == k->srv.d && seen_same(&k->srv) &&
           dict_of(k->eng_o) == k->eng.d && seen_same(&k->eng) &&
           seen_same(&k->cfg) && seen_same(&k->cmds) &&
           (k->p_o == Py_None || (dict_of(k->p_o) == k->p.d && seen_same(&k->p)));
}

/* after the read: every tracked dict still as this file left it */
static int all_same(ReadPath *rp) {
    ReadCache *k = rp->cache;
    return seen_same(&rp->conn_d) && seen_same(&rp->c_d) && seen_same(&k->srv) &&
           seen_same(&k->eng) && seen_same(&k->cfg) && seen_same(&k->cmds) &&
           (k->p_o == Py_None || seen_same(&k->p));
}

static PyObject *N_conn[6], *N_srv[4], *N_c[3], *N_eng[3];

/* The full check: the read is the common case (see the top) and the guard holds,
 * reading every attribute; the ReadPath and the ReadCache keep what it found. 1 when
 * the read may run here, 0 when not (an error may be set). Nothing is changed but the
 * two caches. */
static int full_check(ReadPath *rp) {
    PyObject *conn = rp->conn;
    ReadCache *k = rp->cache;
    Refs r = {0};
    PyObject *v[5] = {NULL}, *o[14] = {NULL}, *listeners = NULL, *pd = NULL;
    int ok = 0, n = 0, good = 0;
    rp->valid = 0;
    if (!common_case(conn, &r))
        goto objs;
    PyObject *cd = dict_with(conn, N_conn), *sd = dict_with(r.srv, N_srv),
             *ccd = dict_with(r.c, N_c), *ed = dict_with(r.eng, N_eng);
    if (!cd || !sd || !ccd || !ed || !PyDict_CheckExact(r.cfg))
        goto objs;
    /* the client's objects */
    if (!(v[0] = aget(r.c, S_db_index)) || !(v[1] = aget(r.c, S_user)) ||
        !(v[2] = aget(r.c, S_channels)) || !(v[3] = aget(r.c, S_patterns)) ||
        !(v[4] = aget(r.c, S_shard_channels)))
        goto objs;
    /* the server's and the engine's */
    long long me = cfg_ll(r.cfg, S_max_entries), mb = cfg_ll(r.cfg, S_max_bytes),
              obs = attr_ll(r.eng, S__observe_usec);
    int lat = attr_true(r.eng, S__lat_tracking);
    if (PyErr_Occurred() || lat < 0)
        goto objs;
    if (!(o[n++] = aget(r.srv, S_persistence)) || !(o[n++] = aget(r.eng, S_ready_keys)) ||
        !(o[n++] = aget(r.srv, S_resume)) || !(o[n++] = aget(r.srv, S_dirty)) ||
        !(o[n++] = aget(r.eng, S_watched)) || !(o[n++] = aget(r.eng, S_blocked_on)) ||
        !(o[n++] = aget(r.eng, S_effects)) || !(o[n++] = aget(r.eng, S_command_stats)) ||
        !(o[n++] = aget(r.eng, S_clock)) || !(o[n++] = aget(r.eng, S_latency_big)) ||
        !(o[n++] = aget(r.eng, S__commands)))
        goto objs;
    PyObject *p = o[0];
    int p_quiet = 1;
    if (p != Py_None) {
        int wn = attr_none(p, S_writer);
        if (wn < 0 || !(listeners = aget(p, S_listeners)) || !(pd = dict_of(p)))
            goto objs;
        p_quiet = wn == 1;
    }
    if (!PyDict_CheckExact(o[1]) || !PyList_CheckExact(o[2]) || !PyAnySet_CheckExact(o[3]) ||
        !PyDict_CheckExact(o[4]) || !PyDict_CheckExact(o[5]) ||
        (o[6] != Py_None && !PyList_CheckExact(o[6])) || !PyDict_CheckExact(o[7]) ||
        !PyDict_CheckExact(o[10]) || !PyList_CheckExact(r.out))
        goto objs;
    good = 1;
    /* keep it all */
#define PUT(f, val) Py_XSETREF(k->f, Py_NewRef(val));
    PUT(srv_o, r.srv) PUT(eng_o, r.eng) PUT(p_o, p) PUT(cfg_o, r.cfg) PUT(ready_keys, o[1])
    PUT(resume, o[2]) PUT(dirty_set, o[3]) PUT(watched, o[4]) PUT(blocked_on, o[5])
    PUT(effects, o[6]) PUT(command_stats, o[7]) PUT(latency_big, o[9])
    Py_XSETREF(k->listeners, Py_XNewRef(listeners));
    Py_XSETREF(k->clock, Py_NewRef((PyObject *)Py_TYPE(o[8]) == RP.system_clock ? Py_None : o[8]));
    k->max_entries = me;
    k->max_bytes = mb;
    k->observe = obs;
    k->lat_tracking = lat;
    k->p_quiet = p_quiet;
    seen_now(&k->srv, sd);
    seen_now(&k->eng, ed);
    seen_now(&k->cfg, r.cfg);
    seen_now(&k->cmds, o[10]);
    seen_now(&k->p, pd);
    k->valid = 1;
#undef PUT
#define PUT(f, val) Py_XSETREF(rp->f, Py_NewRef(val));
    PUT(srv, r.srv) PUT(eng, r.eng) PUT(c, r.c) PUT(tr, r.tr) PUT(out, r.out) PUT(db, r.db)
    PUT(db_index, v[0]) PUT(user, v[1]) PUT(channels, v[2]) PUT(patterns, v[3])
    PUT(shard, v[4])
#undef PUT
    seen_now(&rp->conn_d, cd);
    seen_now(&rp->c_d, ccd);
    rp->valid = 1;
    ok = 1;
objs:
    Py_XDECREF(listeners);
    for (int i = 0; i < n; i++)
        Py_XDECREF(o[i]);
    if (!good)
        ok = 0;
    for (int i = 0; i < 5; i++)
        Py_XDECREF(v[i]);
    refs_clear(&r);
    return ok;
}

/* engine/fastpath.py count_calls for a run's KStats */
static int rp_count(ReadPath *rp, int *intact, KStat *ks) {
    ReadCache *k = rp->cache;
    PyObject *cs = k->command_stats;
    long long total = 0;
    for (int i = 1; i < K_N; i++) {
        KStat *s = &ks[i];
        if (!s->calls)
            continue;
        PyObject *name = fp_kind_name[i];
        PyObject *st = PyDict_GetItemWithError(cs, name);
        if (!st) {
            if (PyErr_Occurred() || !(st = Py_BuildValue("[iiiiO]", 0, 0, 0, 0, Py_None)))
                return -1;
            int r = PyDict_SetItem(cs, name, st);
            Py_DECREF(st);
            if (r < 0)
                return -1;
        }
        if (!PyList_CheckExact(st) || PyList_GET_SIZE(st) < 5) {
            PyErr_SetString(PyExc_RuntimeError, "readpath: command_stats entry is not a list");
            return -1;
        }
        Py_INCREF(st);
        int bad = item_add(st, 0, s->calls) < 0 || item_add(st, 1, s->usec) < 0;
        if (!bad && k->lat_tracking) {
            for (long long u = 0; !bad && u < KSTAT_LOW; u++)
                if (s->low[u] && add_latency(rp->eng, name, st, u, s->low[u]) < 0)
                    bad = 1;
            Py_ssize_t j = 0;
            PyObject *u, *cnt;
            while (!bad && s->hist && PyDict_Next(s->hist, &j, &u, &cnt))
                bad = add_latency(rp->eng, name, st, PyLong_AsLongLong(u),
                                  PyLong_AsLongLong(cnt)) < 0;
        }
        Py_DECREF(st);
        if (bad)
            return -1;
        total += s->calls;
    }
    return tadd(&k->eng, intact, S_stats_commands, total);
}

/* data_received's prologue: the counters, the client's last interaction (the engine's
 * clock, as Server.now_ms), the batch's start (time.monotonic) */
static int prologue(ReadPath *rp, int *intact, Py_ssize_t n) {
    ReadCache *k = rp->cache;
    if (tadd(&rp->conn_d, intact, S_net_in, n) < 0 || tadd(&k->srv, intact, S_net_in, n) < 0 ||
        tadd(&k->srv, intact, S_reads_processed, 1) < 0)
        return -1;
    PyObject *ms;
    if (k->clock == Py_None) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ms = PyLong_FromLongLong((long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
    } else {
        ms = PyObject_CallMethodNoArgs(k->clock, S_ms);
    }
    if (!ms)
        return -1;
    int rc = tset(&rp->c_d, intact, S_last_interaction_ms, ms);
    Py_DECREF(ms);
    if (rc < 0)
        return -1;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    PyObject *t = PyFloat_FromDouble((double)ts.tv_sec + ts.tv_nsec * 1e-9);
    if (!t)
        return -1;
    rc = tset(&rp->conn_d, intact, S_batch_started, t);
    Py_DECREF(t);
    return rc;
}

/* fastpath.run's bookkeeping after fast_run: the client's and the engine's counters */
static int account(ReadPath *rp, int *intact, FpRun *run) {
    if (!run->ncmds)
        return 0;
    if (tadd(&rp->conn_d, intact, S_cmds, run->ncmds) < 0 ||
        tadd(&rp->cache->eng, intact, S_dirty, run->dirty) < 0 ||
        tset(&rp->c_d, intact, S_last_command, RP.cmd[run->last]) < 0)
        return -1;
    return rp_count(rp, intact, run->ks);
}

/* end_batch has nothing to do but flush this connection: no blocked client to serve or
 * resume, no AOF or replica to stage for, no other client to flush (engine.busy and
 * tracking are None: the guard) */
static int quiet(ReadCache *k) {
    if (!k->p_quiet || !empty_dict(k->ready_keys) || !empty_list(k->resume) ||
        !empty_set(k->dirty_set))
        return 0;
    return k->listeners == NULL || PyObject_IsTrue(k->listeners) == 0;
}

/* Connection.flush of the read's replies when nothing else is pending */
static int flush(ReadPath *rp, int *intact, PyObject *reply) {
    PyObject *conn = rp->conn;
    if (tadd(&rp->conn_d, intact, S_net_out, PyBytes_GET_SIZE(reply)) < 0 ||
        tadd(&rp->cache->srv, intact, S_writes_processed, 1) < 0)
        return -1;
    PyObject *w = PyObject_CallMethodOneArg(rp->tr, S_write, reply);
    if (!w)
        return -1;
    Py_DECREF(w);
    PyObject *size = PyObject_CallMethodNoArgs(rp->tr, S_get_write_buffer_size);
    if (!size)
        return -1;
    int some = PyObject_IsTrue(size);
    if (some <= 0) {
        Py_DECREF(size);
        return some;
    }
    PyObject *args[3] = {rp->srv, conn, size};
    PyObject *x = PyObject_VectorcallMethod(S_check_output_limits, args, 3, NULL);
    Py_DECREF(size);
    if (!x)
        return -1;
    Py_DECREF(x);
    /* throttled by the transport's pause_writing under the high-water mark: carry on in
     * the next turn of the loop (Connection.flush's last step) */
    int th = attr_true(conn, S_throttled), wp = 0, cl = 0;
    if (th < 0 || (th && ((wp = attr_true(conn, S_write_paused)) < 0 ||
                          (cl = attr_true(conn, S_closed)) < 0)))
        return -1;
    if (th && !wp && !cl) {
        PyObject *loop = aget(rp->srv, S_loop);
        PyObject *cb = loop ? aget(conn, S_unthrottle) : NULL;
        PyObject *h = cb ? PyObject_CallMethodOneArg(loop, S_call_soon, cb) : NULL;
        Py_XDECREF(loop);
        Py_XDECREF(cb);
        if (!h)
            return -1;
        Py_DECREF(h);
    }
    return 0;
}

static PyObject *python_path(PyObject *conn, PyObject *data) {
    PyObject *args[2] = {conn, data};
    return PyObject_Vectorcall(RP.py_received, args, 2, NULL);
}

/* After fast_run: the replies written (the whole read ran, end_batch has nothing else
 * to do) or left in conn.out for Server.end_batch or Connection._fast_resume */
static int finish(ReadPath *rp, int *intact, PyObject *data, FpRun *run) {
    PyObject *reply = NULL, *x = NULL;
    if (run->out.len && !(reply = PyBytes_FromStringAndSize(run->out.p, run->out.len)))
        return -1;
    if (run->status == ST_END && reply && *intact && quiet(rp->cache)) {
        int r = flush(rp, intact, reply);
        Py_DECREF(reply);
        return r;
    }
    if (reply) {
        int r = PyList_Append(rp->out, reply);
        Py_DECREF(reply);
        if (r < 0)
            return -1;
    }
    if (run->status == ST_END) {
        x = PyObject_CallMethodOneArg(rp->srv, S_end_batch, rp->conn);
    } else {
        PyObject *pos = PyLong_FromSsize_t(run->pos), *st = PyLong_FromLong(run->status);
        PyObject *room = PyLong_FromLongLong(run->room);
        if (pos && st && room && tset(&rp->conn_d, intact, S_room, room) == 0) {
            PyObject *args[5] = {rp->conn, data, pos, st, run->extra};
            x = PyObject_Vectorcall(RP.py_resume, args, 5, NULL);
        }
        Py_XDECREF(pos);
        Py_XDECREF(st);
        Py_XDECREF(room);
    }
    Py_XDECREF(x);
    return x ? 0 : -1;
}

/* The read: see the top of the file */
static PyObject *read_call(ReadPath *rp, PyObject *data) {
    PyObject *conn = rp->conn;
    ReadCache *k = rp->cache;
    if (!RP.py_received) {
        PyErr_SetString(PyExc_RuntimeError, "ReadPath: setup_readpath() was not called");
        return NULL;
    }
    if (k->busy || !PyBytes_CheckExact(data) || PyBytes_GET_SIZE(data) == 0 ||
        PyBytes_AS_STRING(data)[0] != '*' ||
        PyDict_GetItemWithError(RP.globals, S_fast_run) != RP.fast_run)
        return python_path(conn, data);
    if (!(cached_ok(rp) && dynamic_ok(rp)) && !full_check(rp)) {
        PyErr_Clear(); /* the Python path meets it again, if it is real */
        return python_path(conn, data);
    }
    k->busy = 1;
    int intact = 1, rc = -1;
    FpRun run;
    fp_run_init(&run);
    PyObject *dbv[3] = {NULL};
    if (prologue(rp, &intact, PyBytes_GET_SIZE(data)) < 0)
        goto done;
    if (!(dbv[0] = aget(rp->db, S_data)) || !(dbv[1] = aget(rp->db, S_expires)) ||
        !(dbv[2] = aget(rp->db, S_ks_dirty)))
        goto done;
    if (!PyDict_CheckExact(dbv[0]) || !PyDict_CheckExact(dbv[1]) || !PySet_CheckExact(dbv[2])) {
        PyErr_SetString(PyExc_TypeError, "ReadPath: unexpected database state");
        goto done;
    }
    run.d = PyBytes_AS_STRING(data);
    run.n = PyBytes_GET_SIZE(data);
    run.pos = 0;
    run.room = RP.reply_buf;
    run.data = dbv[0];
    run.expires = dbv[1];
    run.ks_dirty = dbv[2];
    run.db_index = rp->db_index;
    run.watched = k->watched;
    run.blocked_on = k->blocked_on;
    run.effects = k->effects;
    run.clock = k->clock;
    run.max_entries = k->max_entries;
    run.max_bytes = k->max_bytes;
    run.observe = k->observe;
    run.ks_cap = attr_ll(rp->db, S_ks_cap);
    if (PyErr_Occurred() || fp_run(&run) < 0)
        goto done;
    RP.served += run.ncmds;
    if (account(rp, &intact, &run) < 0 ||
        finish(rp, &intact, data, &run) < 0)
        goto done;
    rc = 0;
done:
    for (int i = 0; i < 3; i++)
        Py_XDECREF(dbv[i]);
    fp_run_clear(&run);
    if (!(intact && rc == 0 && all_same(rp)))
        rp->valid = k->valid = 0; /* something else changed them: check all next time */
    k->busy = 0;
    return rc == 0 ? Py_NewRef(Py_None) : NULL;
}

static PyObject *read_vectorcall(PyObject *self, PyObject *const *args, size_t nargsf,
                                 PyObject *kwnames) {
    if (PyVectorcall_NARGS(nargsf) != 1 || kwnames) {
        PyErr_SetString(PyExc_TypeError, "ReadPath(data)");
        return NULL;
    }
    return read_call((ReadPath *)self, args[0]);
}

/* -- the two types ------------------------------------------------------------------ */

static int cache_traverse(ReadCache *k, visitproc visit, void *arg) {
#define VISIT(f) Py_VISIT(k->f);
    CACHE_FIELDS(VISIT)
    VISIT(srv.d) VISIT(eng.d) VISIT(cfg.d) VISIT(cmds.d) VISIT(p.d)
#undef VISIT
    return 0;
}

static int cache_clear(ReadCache *k) {
#define CLEAR(f) Py_CLEAR(k->f);
    CACHE_FIELDS(CLEAR)
    CLEAR(srv.d) CLEAR(eng.d) CLEAR(cfg.d) CLEAR(cmds.d) CLEAR(p.d)
#undef CLEAR
    k->valid = 0;
    return 0;
}

static void cache_dealloc(ReadCache *k) {
    PyObject_GC_UnTrack(k);
    cache_clear(k);
    Py_TYPE(k)->tp_free((PyObject *)k);
}

static PyObject *cache_new(PyTypeObject *t, PyObject *args, PyObject *kw) {
    if (!_PyArg_NoKeywords("ReadCache", kw) || !_PyArg_NoPositional("ReadCache", args))
        return NULL;
    return t->tp_alloc(t, 0); /* zeroed: not valid */
}

static PyTypeObject ReadCacheType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "streamlite._speedups.ReadCache",
    .tp_basicsize = sizeof(ReadCache),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .tp_doc = "ReadCache(): what a server's ReadPaths found and keep (see _readpath.c)",
    .tp_new = cache_new,
    .tp_traverse = (traverseproc)cache_traverse,
    .tp_clear = (inquiry)cache_clear,
    .tp_dealloc = (destructor)cache_dealloc,
};

static int path_traverse(ReadPath *rp, visitproc visit, void *arg) {
    Py_VISIT(rp->conn);
    Py_VISIT(rp->cache);
#define VISIT(f) Py_VISIT(rp->f);
    PATH_FIELDS(VISIT)
    VISIT(conn_d.d) VISIT(c_d.d)
#undef VISIT
    return 0;
}

static int path_clear(ReadPath *rp) {
    Py_CLEAR(rp->conn);
    Py_CLEAR(rp->cache);
#define CLEAR(f) Py_CLEAR(rp->f);
    PATH_FIELDS(CLEAR)
    CLEAR(conn_d.d) CLEAR(c_d.d)
#undef CLEAR
    rp->valid = 0;
    return 0;
}

static void path_dealloc(ReadPath *rp) {
    PyObject_GC_UnTrack(rp);
    path_clear(rp);
    Py_TYPE(rp)->tp_free((PyObject *)rp);
}

static PyObject *path_new(PyTypeObject *t, PyObject *args, PyObject *kw) {
    PyObject *conn, *cache;
    if (!_PyArg_NoKeywords("ReadPath", kw) ||
        !PyArg_ParseTuple(args, "OO!:ReadPath", &conn, &ReadCacheType, &cache))
        return NULL;
    ReadPath *rp = (ReadPath *)t->tp_alloc(t, 0);
    if (!rp)
        return NULL;
    rp->vectorcall = read_vectorcall;
    rp->conn = Py_NewRef(conn);
    rp->cache = (ReadCache *)Py_NewRef(cache);
    return (PyObject *)rp;
}

static PyObject *path_valid(ReadPath *rp, void *unused) { return PyBool_FromLong(rp->valid); }

/* check() -> (usable, from the cache): the decision a read makes before it runs
 * anything (the tests compare it with the Python guard after changes of all kinds) */
static PyObject *path_check(ReadPath *rp, PyObject *unused) {
    int cached = cached_ok(rp) && dynamic_ok(rp);
    int ok = cached || full_check(rp);
    PyErr_Clear();
    return Py_BuildValue("(OO)", ok ? Py_True : Py_False, cached ? Py_True : Py_False);
}

static PyMethodDef path_methods[] = {
    {"check", (PyCFunction)path_check, METH_NOARGS,
     "check() -> (usable, from_cache): what the next read would decide"},
    {NULL},
};

static PyGetSetDef path_getset[] = {
    {"valid", (getter)path_valid, NULL, "the last check's findings are kept", NULL},
    {NULL},
};

static PyTypeObject ReadPathType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "streamlite._speedups.ReadPath",
    .tp_basicsize = sizeof(ReadPath),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_HAVE_VECTORCALL,
    .tp_doc = "ReadPath(conn, cache): conn's data_received, compiled (see _readpath.c)",
    .tp_new = path_new,
    .tp_vectorcall_offset = offsetof(ReadPath, vectorcall),
    .tp_call = PyVectorcall_Call,
    .tp_traverse = (traverseproc)path_traverse,
    .tp_clear = (inquiry)path_clear,
    .tp_dealloc = (destructor)path_dealloc,
    .tp_getset = path_getset,
    .tp_methods = path_methods,
};

/* the module's types (from PyInit__speedups) */
int rp_add_types(PyObject *m) {
    if (PyType_Ready(&ReadCacheType) < 0 || PyType_Ready(&ReadPathType) < 0)
        return -1;
    if (PyModule_AddObjectRef(m, "ReadCache", (PyObject *)&ReadCacheType) < 0 ||
        PyModule_AddObjectRef(m, "ReadPath", (PyObject *)&ReadPathType) < 0)
        return -1;
    return 0;
}

/* fastpath_served() -> (commands fp_run answered, those of them ReadPaths ran): for
 * the tests */
PyObject *rp_served(PyObject *self, PyObject *unused) {
    return Py_BuildValue("(LL)", fp_served, RP.served);
}

#define INTERN(var, text)                                                                  \
    if (!(var = PyUnicode_InternFromString(text)))                                         \
        return -1;
#define BYTES(var, text)                                                                   \
    if (!(var = PyBytes_FromString(text)))                                                 \
        return -1;

static int intern_names(void) {
    INTERN(S_closed, "closed") INTERN(S_waiting, "waiting")
    INTERN(S_close_after_reply, "close_after_reply") INTERN(S_throttled, "throttled")
    INTERN(S_sliced, "sliced") INTERN(S_parser, "parser") INTERN(S_fast_tail, "fast_tail")
    INTERN(S_out, "out") INTERN(S_transport, "transport") INTERN(S_server, "server")
    INTERN(S_client, "client") INTERN(S_engine, "engine")
    INTERN(S_get_write_buffer_size, "get_write_buffer_size")
    INTERN(S_paused_until, "paused_until") INTERN(S_loading, "loading")
    INTERN(S_reply_mode, "reply_mode") INTERN(S_multi, "multi")
    INTERN(S_authenticated, "authenticated") INTERN(S_user, "user")
    INTERN(S_unrestricted, "unrestricted") INTERN(S_channels, "channels")
    INTERN(S_patterns, "patterns") INTERN(S_shard_channels, "shard_channels")
    INTERN(S_tracking, "tracking") INTERN(S_closing, "closing") INTERN(S_blocked, "blocked")
    INTERN(S_is_master, "is_master") INTERN(S_write_error, "write_error")
    INTERN(S_read_only, "read_only") INTERN(S_busy, "busy") INTERN(S_on_command, "on_command")
    INTERN(S_hotkeys, "hotkeys") INTERN(S__depth, "_depth") INTERN(S__unit_outer, "_unit_outer")
    INTERN(S_config, "config") INTERN(S_maxmemory, "maxmemory")
    INTERN(S_notify, "notify-keyspace-events") INTERN(S_db, "db") INTERN(S_lrm, "lrm")
    INTERN(S__commands, "_commands") BYTES(S_b_xadd, "xadd") BYTES(S_b_ping, "ping")
    BYTES(S_b_echo, "echo") INTERN(S_net_in, "net_in")
    INTERN(S_reads_processed, "reads_processed")
    INTERN(S_last_interaction_ms, "last_interaction_ms")
    INTERN(S_batch_started, "batch_started") INTERN(S_clock, "clock") INTERN(S_ms, "ms")
    INTERN(S_data, "data") INTERN(S_expires, "expires") INTERN(S_db_index, "db_index")
    INTERN(S_watched, "watched") INTERN(S_blocked_on, "blocked_on") INTERN(S_effects, "effects")
    INTERN(S_max_entries, "stream-node-max-entries") INTERN(S_max_bytes, "stream-node-max-bytes")
    INTERN(S__observe_usec, "_observe_usec") INTERN(S_ks_dirty, "ks_dirty")
    INTERN(S_ks_cap, "ks_cap") INTERN(S_cmds, "cmds") INTERN(S_dirty, "dirty")
    INTERN(S_last_command, "last_command") INTERN(S_command_stats, "command_stats")
    INTERN(S_stats_commands, "stats_commands") INTERN(S__lat_tracking, "_lat_tracking")
    INTERN(S_latency_big, "latency_big") INTERN(S_room, "room")
    INTERN(S_ready_keys, "ready_keys") INTERN(S_resume, "resume")
    INTERN(S_persistence, "persistence") INTERN(S_writer, "writer")
    INTERN(S_listeners, "listeners") INTERN(S_net_out, "net_out")
    INTERN(S_writes_processed, "writes_processed") INTERN(S_write, "write")
    INTERN(S_check_output_limits, "check_output_limits") INTERN(S_write_paused, "write_paused")
    INTERN(S_loop, "loop") INTERN(S_call_soon, "call_soon") INTERN(S_unthrottle, "unthrottle")
    INTERN(S_end_batch, "end_batch") INTERN(S_fast_run, "fast_run")
    /* the attributes written through the instance dicts (they must be there) */
    PyObject *nc[] = {S_net_in, S_batch_started, S_cmds, S_net_out, S_room, NULL};
    PyObject *ns[] = {S_net_in, S_reads_processed, S_writes_processed, NULL};
    PyObject *ncl[] = {S_last_interaction_ms, S_last_command, NULL};
    PyObject *ne[] = {S_dirty, S_stats_commands, NULL};
    memcpy(N_conn, nc, sizeof nc);
    memcpy(N_srv, ns, sizeof ns);
    memcpy(N_c, ncl, sizeof ncl);
    memcpy(N_eng, ne, sizeof ne);
    return 0;
}

/* setup_readpath(received, resume, fastpath_globals, fast_run, SystemClock,
 *                (None, PING, ECHO, XADD), reply_buf): Connection.data_received and
 * _fast_resume, server/fastpath.py's globals, the compiled fast_run that must be in
 * place there, the engine's real clock type, the commands by fast_run's kinds (the
 * guard's and last_command's) and REPLY_BUF */
PyObject *rp_setup(PyObject *self, PyObject *args) {
    PyObject *received, *resume, *globals, *fast_run, *clock, *cmds;
    long long reply_buf;
    if (!PyArg_ParseTuple(args, "OOO!OOO!L", &received, &resume, &PyDict_Type, &globals,
                          &fast_run, &clock, &PyTuple_Type, &cmds, &reply_buf))
        return NULL;
    if (PyTuple_GET_SIZE(cmds) != K_N) {
        PyErr_SetString(PyExc_ValueError, "setup_readpath: one command per kind");
        return NULL;
    }
    if (!S_closed && intern_names() < 0)
        return NULL;
    Py_XSETREF(RP.py_received, Py_NewRef(received));
    Py_XSETREF(RP.py_resume, Py_NewRef(resume));
    Py_XSETREF(RP.globals, Py_NewRef(globals));
    Py_XSETREF(RP.fast_run, Py_NewRef(fast_run));
    Py_XSETREF(RP.system_clock, Py_NewRef(clock));
    for (int k = 0; k < K_N; k++)
        Py_XSETREF(RP.cmd[k], Py_NewRef(PyTuple_GET_ITEM(cmds, k)));
    RP.reply_buf = reply_buf;
    Py_RETURN_NONE;
}
