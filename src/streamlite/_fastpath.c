/* The compiled dispatch of pipelined PING / ECHO / XADD (part of streamlite._speedups).
 *
 * The model: server/fastpath.py decides, in Python, that nothing but the command's own
 * effect must be observed for a run of commands (no MULTI, no MONITOR, no keyspace
 * notifications, an unrestricted user ...: the guard, see its docstring), then hands
 * the raw bytes of a read to fast_run. fast_run parses well-formed RESP arrays of bulk
 * strings and, for each command:
 *
 *   PING [msg], ECHO msg            the reply, written here;
 *   XADD key [NOMKSTREAM] [MAXLEN [=|~] n] * f v ...
 *                                   on an existing stream that nobody watches or
 *                                   blocks on: the entry appended to the tail node as
 *                                   Stream.add does (or Stream.add itself when a new
 *                                   node starts), Stream.trim for MAXLEN, the reply,
 *                                   the effect for the AOF and replicas with the
 *                                   generated ID (and MAXLEN ~ as MAXLEN = length),
 *                                   the key noted for INFO keysizes as
 *                                   Database.touch notes it;
 *   anything else                   handed back, parsed, to Python (status ARGV),
 *                                   which runs it through Engine.execute.
 *
 * fast_xadd does the same for one XADD given as an argv list (the embedded
 * connection's single commands: engine/fastpath.py holds the guard both use).
 *
 * It stops, handing the rest of the read back, at anything it does not parse exactly
 * (inline or non-bulk input, huge counts or arguments): hiredis and RequestParser take
 * over from that command boundary. A read that ends inside a well-formed command
 * stops with status PARTIAL: Python keeps a short tail for the next read. Statistics (INFO commandstats
 * calls/usec and the latency histogram, total commands, the dirty counter) are
 * returned per run and added by Python before anything else runs.
 *
 * The Python twins (the reference): engine/core.py Engine.execute/call, the handlers
 * engine/commands/connection.py ping/echo and streams.py xadd, and
 * engine/stream/stream.py Stream.add; tests/server/test_fastpath.py runs the same
 * pipelines through both and compares replies, statistics and AOF contents.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <structmember.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "_fastpath.h"

#define MAX_ARGS 256
#define MAX_BULK (1 << 20) /* longer arguments: Python's path (and its checks) */
#define LISTPACK_MAX_SIZE (1LL << 30)
#define F_SAME 2


static PyTypeObject *StreamType, *NodeType;
/* slot offsets of Stream and _Node (their __slots__ member descriptors) */
static Py_ssize_t o_nodes, o_length, o_last_id, o_entries_added;
static Py_ssize_t o_ids, o_flags, o_offs, o_data, o_fields, o_live, o_dead, o_body, o_same, o_base;
static PyObject *S_append, *S_add, *S_ms;
PyObject *fp_kind_name[K_N];

/* -- output buffer ------------------------------------------------------------------ */

static int ob_reserve(OBuf *b, Py_ssize_t extra) {
    if (b->len + extra <= b->cap)
        return 0;
    Py_ssize_t cap = b->cap * 2;
    while (cap < b->len + extra)
        cap *= 2;
    char *p;
    if (b->p == b->small) {
        p = PyMem_Malloc(cap);
        if (p)
            memcpy(p, b->small, b->len);
    } else {
        p = PyMem_Realloc(b->p, cap);
    }
    if (!p) {
        PyErr_NoMemory();
        return -1;
    }
    b->p = p;
    b->cap = cap;
    return 0;
}

static int ob_put(OBuf *b, const char *s, Py_ssize_t n) {
    if (ob_reserve(b, n) < 0)
        return -1;
    memcpy(b->p + b->len, s, n);
    b->len += n;
    return 0;
}


static int ob_bulk(OBuf *b, const char *s, Py_ssize_t n) {
    char hdr[32];
    int h = 1;
    hdr[0] = '$';
    h += fmt_u64(hdr + 1, (uint64_t)n);
    hdr[h++] = '\r';
    hdr[h++] = '\n';
    if (ob_reserve(b, h + n + 2) < 0)
        return -1;
    memcpy(b->p + b->len, hdr, h);
    memcpy(b->p + b->len + h, s, n);
    memcpy(b->p + b->len + h + n, "\r\n", 2);
    b->len += h + n + 2;
    return 0;
}

/* -- RESP parsing: well-formed arrays of bulk strings only ---------------------------- */

typedef struct {
    Py_ssize_t off, len;
} Arg;

/* A decimal without sign or leading zeros ending in CRLF: its value, -1 when it is not
 * one (hiredis and RequestParser take over and name the error), -2 when the data end
 * before it does. */
static Py_ssize_t read_len(const char *d, Py_ssize_t n, Py_ssize_t *pos) {
    Py_ssize_t p = *pos, v = 0;
    int digits = 0;
    while (p < n && d[p] >= '0' && d[p] <= '9') {
        if (digits == 1 && v == 0)
            return -1; /* a leading zero */
        v = v * 10 + (d[p] - '0');
        if (++digits > 9)
            return -1;
        p++;
    }
    if (p >= n || (d[p] == '\r' && p + 1 >= n))
        return -2;
    if (!digits || d[p] != '\r' || d[p + 1] != '\n')
        return -1;
    *pos = p + 2;
    return v;
}

enum { P_UNUSUAL = 0, P_DONE = 1, P_INCOMPLETE = 2 };

/* One command at *pos: P_DONE with its arguments, P_INCOMPLETE when the data end inside
 * a well-formed command, P_UNUSUAL for anything else (handed over). */
static int parse_cmd(const char *d, Py_ssize_t n, Py_ssize_t *pos, Arg *args, int *argc) {
    Py_ssize_t p = *pos;
    if (d[p] != '*')
        return P_UNUSUAL;
    p++;
    Py_ssize_t cnt = read_len(d, n, &p);
    if (cnt == -2)
        return P_INCOMPLETE;
    if (cnt < 1 || cnt > MAX_ARGS)
        return P_UNUSUAL;
    for (Py_ssize_t i = 0; i < cnt; i++) {
        if (p >= n)
            return P_INCOMPLETE;
        if (d[p] != '$')
            return P_UNUSUAL;
        p++;
        Py_ssize_t len = read_len(d, n, &p);
        if (len == -2)
            return P_INCOMPLETE;
        if (len < 0 || len > MAX_BULK)
            return P_UNUSUAL;
        if (p + len + 2 > n) {
            /* the CRLF after the data, if there, must be one */
            if (p + len < n && d[p + len] != '\r')
                return P_UNUSUAL;
            return P_INCOMPLETE;
        }
        if (d[p + len] != '\r' || d[p + len + 1] != '\n')
            return P_UNUSUAL;
        args[i].off = p;
        args[i].len = len;
        p += len + 2;
    }
    *argc = (int)cnt;
    *pos = p;
    return P_DONE;
}

static int arg_is(const char *d, Arg a, const char *lower) {
    Py_ssize_t n = (Py_ssize_t)strlen(lower);
    if (a.len != n)
        return 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        char ch = d[a.off + i];
        if (ch >= 'A' && ch <= 'Z')
            ch += 32;
        if (ch != lower[i])
            return 0;
    }
    return 1;
}

static PyObject *make_argv(const char *d, Arg *args, int argc) {
    PyObject *lst = PyList_New(argc);
    if (!lst)
        return NULL;
    for (int i = 0; i < argc; i++) {
        PyObject *b = PyBytes_FromStringAndSize(d + args[i].off, args[i].len);
        if (!b) {
            Py_DECREF(lst);
            return NULL;
        }
        PyList_SET_ITEM(lst, i, b);
    }
    return lst;
}

/* -- listpack byte accounting (engine/stream/listpack.py) ---------------------------- */

static inline long long int_size(long long v) {
    if (0 <= v && v <= 127) return 2;
    if (-4096 <= v && v <= 4095) return 3;
    if (-32768 <= v && v <= 32767) return 4;
    if (-8388608 <= v && v <= 8388607) return 5;
    if (-2147483648LL <= v && v <= 2147483647LL) return 6;
    return 10;
}

static inline long long backlen_size(long long enc) {
    if (enc <= 127) return 1;
    if (enc < 16383) return 2;
    if (enc < 2097151) return 3;
    if (enc < 268435455) return 4;
    return 5;
}

/* str_size: a canonical int64 counts as an integer element */
static long long str_size(const unsigned char *b, Py_ssize_t n) {
    if (n && (b[0] > 57 || b[0] < 45))
        goto plain;
    if (0 < n && n <= 20) {
        unsigned char c = b[0];
        int neg = c == '-';
        Py_ssize_t i = neg;
        int ok;
        if (n == 1 && c == '0')
            ok = 1;
        else if (neg)
            ok = n > 1 && b[1] >= '1' && b[1] <= '9';
        else
            ok = c >= '1' && c <= '9';
        for (Py_ssize_t j = i; ok && j < n; j++)
            ok = b[j] >= '0' && b[j] <= '9';
        if (ok) {
            /* magnitude up to 20 digits: check against int64's range in unsigned */
            unsigned long long m = 0;
            int over = 0;
            for (Py_ssize_t j = i; j < n; j++) {
                unsigned d = b[j] - '0';
                if (m > (ULLONG_MAX - d) / 10) {
                    over = 1;
                    break;
                }
                m = m * 10 + d;
            }
            if (!over && (neg ? m <= (1ULL << 63) : m <= (unsigned long long)LLONG_MAX)) {
                long long v = neg ? (long long)(0 - m) : (long long)m;
                return int_size(v);
            }
        }
    }
plain:
    if (n < 64)
        return n + 2;
    long long enc = n < 4096 ? n + 2 : n + 5;
    return enc + backlen_size(enc);
}

static int put_varint(PyObject *ba, Py_ssize_t *len, unsigned long long v) {
    unsigned char tmp[10];
    int k = 0;
    while (v >= 128) {
        tmp[k++] = (unsigned char)((v & 127) | 128);
        v >>= 7;
    }
    tmp[k++] = (unsigned char)v;
    if (PyByteArray_Resize(ba, *len + k) < 0)
        return -1;
    memcpy(PyByteArray_AS_STRING(ba) + *len, tmp, k);
    *len += k;
    return 0;
}

static int put_raw(PyObject *ba, Py_ssize_t *len, const char *s, Py_ssize_t n) {
    if (PyByteArray_Resize(ba, *len + n) < 0)
        return -1;
    memcpy(PyByteArray_AS_STRING(ba) + *len, s, n);
    *len += n;
    return 0;
}

/* -- slots --------------------------------------------------------------------------- */

#define SLOT(obj, off) (*(PyObject **)((char *)(obj) + (off)))

/* replace a slot's value (steals v) */
static inline void slot_set(PyObject *obj, Py_ssize_t off, PyObject *v) {
    PyObject *old = SLOT(obj, off);
    SLOT(obj, off) = v;
    Py_XDECREF(old);
}

static int slot_ll(PyObject *obj, Py_ssize_t off, long long *out) {
    PyObject *v = SLOT(obj, off);
    if (v == NULL || !PyLong_CheckExact(v))
        return 0;
    int overflow;
    *out = PyLong_AsLongLongAndOverflow(v, &overflow);
    return !overflow && !(*out == -1 && PyErr_Occurred());
}

static int slot_set_ll(PyObject *obj, Py_ssize_t off, long long v) {
    PyObject *o = PyLong_FromLongLong(v);
    if (!o)
        return -1;
    slot_set(obj, off, o);
    return 0;
}

PyObject *id_long(uint64_t ms, uint64_t seq) {
    unsigned char b[16];
    for (int i = 0; i < 8; i++) {
        b[i] = (unsigned char)(seq >> (8 * i));
        b[8 + i] = (unsigned char)(ms >> (8 * i));
    }
    return _PyLong_FromByteArray(b, 16, 1, 0);
}

/* 1..19 ASCII digits at d[0..n) as *v (below 10**19, so no overflow); 0 otherwise */
static int digits_u64(const char *d, Py_ssize_t n, uint64_t *v) {
    if (n < 1 || n > 19)
        return 0;
    uint64_t x = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        if (d[i] < '0' || d[i] > '9')
            return 0;
        x = x * 10 + (uint64_t)(d[i] - '0');
    }
    *v = x;
    return 1;
}

/* parse_ids(fallback, items) -> [int, ...]: ids.py's parse_ids_py, each item's
 * ``<ms>-<seq>`` of ASCII digits (below 10**19 each, as parse_strict takes them
 * without parse_id) here, anything else through fallback (parse_strict: its errors) */
PyObject *fp_parse_ids(PyObject *self, PyObject *const *av, Py_ssize_t nargs) {
    if (nargs != 2 || !PyList_CheckExact(av[1])) {
        PyErr_SetString(PyExc_TypeError, "parse_ids(fallback, list)");
        return NULL;
    }
    PyObject *items = av[1];
    Py_ssize_t n = PyList_GET_SIZE(items);
    PyObject *out = PyList_New(n);
    if (!out)
        return NULL;
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *b = PyList_GET_ITEM(items, i), *v = NULL;
        uint64_t ms, seq;
        if (PyBytes_CheckExact(b)) {
            const char *d = PyBytes_AS_STRING(b);
            Py_ssize_t len = PyBytes_GET_SIZE(b);
            const char *dash = memchr(d, '-', (size_t)len);
            if (dash && digits_u64(d, dash - d, &ms) &&
                digits_u64(dash + 1, len - (dash - d) - 1, &seq))
                v = id_long(ms, seq);
            else
                v = PyObject_CallOneArg(av[0], b);
        } else {
            v = PyObject_CallOneArg(av[0], b);
        }
        if (!v) {
            Py_DECREF(out);
            return NULL;
        }
        PyList_SET_ITEM(out, i, v);
    }
    return out;
}

/* The last ID this module stored as a stream's last_id, and its halves: the next XADD
 * to the same stream finds the same object there and skips the conversion. */
static PyObject *cached_sid;
static uint64_t cached_ms, cached_seq;

static void cache_sid(PyObject *sid, uint64_t ms, uint64_t seq) {
    Py_INCREF(sid);
    Py_XSETREF(cached_sid, sid);
    cached_ms = ms;
    cached_seq = seq;
}

static int id_split(PyObject *v, uint64_t *ms, uint64_t *seq) {
    unsigned char b[16];
    if (v == cached_sid) {
        *ms = cached_ms;
        *seq = cached_seq;
        return 1;
    }
    if (!PyLong_CheckExact(v) || _PyLong_Sign(v) < 0)
        return 0;
    if (_PyLong_AsByteArray((PyLongObject *)v, b, 16, 1, 0) < 0) {
        PyErr_Clear();
        return 0;
    }
    *ms = *seq = 0;
    for (int i = 7; i >= 0; i--) {
        *seq = (*seq << 8) | b[i];
        *ms = (*ms << 8) | b[8 + i];
    }
    return 1;
}

static PyObject *call_method(PyObject *name, PyObject *self, PyObject *a, PyObject *b) {
    PyObject *args[3] = {self, a, b};
    return PyObject_VectorcallMethod(name, args, b ? 3 : 2, NULL);
}

/* -- XADD ------------------------------------------------------------------------------ */

typedef struct {
    PyObject *data, *expires, *db_index, *watched, *blocked_on, *effects, *clock, *ks_dirty;
    long long max_entries, max_bytes, ks_cap;
} Ctx;

/* Append (ms, seq) with fields args[f0..argc) to the tail node as Stream.add does:
 * 1 done, 0 when Stream.add must do it (a new node, anything unusual), -1 error. */
static int node_append(PyObject *s, const char *d, Arg *args, int f0, int argc, uint64_t ms,
                       uint64_t seq, Ctx *x) {
    PyObject *nodes = SLOT(s, o_nodes);
    if (!nodes || !PyList_CheckExact(nodes) || PyList_GET_SIZE(nodes) == 0)
        return 0;
    PyObject *node = PyList_GET_ITEM(nodes, PyList_GET_SIZE(nodes) - 1);
    if (Py_TYPE(node) != NodeType)
        return 0;
    long long live, dead, body, same;
    if (!slot_ll(node, o_live, &live) || !slot_ll(node, o_dead, &dead) ||
        !slot_ll(node, o_body, &body) || !slot_ll(node, o_same, &same) || live < 0 || dead < 0)
        return 0;
    PyObject *flags = SLOT(node, o_flags), *ids = SLOT(node, o_ids), *offs = SLOT(node, o_offs);
    PyObject *fields = SLOT(node, o_fields), *data = SLOT(node, o_data);
    if (!flags || !PyByteArray_CheckExact(flags) || !ids || !offs || !fields ||
        !PyList_CheckExact(fields) || !data)
        return 0;
    long long lp = body + int_size(live) + int_size(dead);
    long long limit = (0 < x->max_bytes && x->max_bytes <= LISTPACK_MAX_SIZE) ? x->max_bytes
                                                                            : LISTPACK_MAX_SIZE;
    long long total = 0;
    for (int i = f0; i < argc; i++)
        total += args[i].len;
    Py_ssize_t nflags = PyByteArray_GET_SIZE(flags);
    if (lp + total >= limit || (x->max_entries && nflags >= x->max_entries))
        return 0; /* a new node: Stream.add seals this one */
    /* the node's layout (stream.py's _Node): ids hold (ms - base, seq) pairs, 'I' or
     * 'Q'; offs 'H' or 'I'. An ID or offset that needs a wider array than the node
     * has: Stream.add (_Node.append_id / append_off widen it) */
    uint64_t base, mms, mseq;
    {
        PyObject *b = SLOT(node, o_base);
        if (!b || !PyLong_CheckExact(b))
            return 0;
        base = PyLong_AsUnsignedLongLong(b);
        if (base == (uint64_t)-1 && PyErr_Occurred()) {
            PyErr_Clear();
            return 0;
        }
    }
    if (ms < base)
        return 0;
    {
        Py_buffer v;
        if (PyObject_GetBuffer(ids, &v, PyBUF_FORMAT) < 0) {
            PyErr_Clear();
            return 0;
        }
        int narrow = v.itemsize == 4 && v.format && strcmp(v.format, "I") == 0;
        int ok = v.len >= 2 * v.itemsize &&
                 (narrow || (v.itemsize == 8 && v.format && strcmp(v.format, "Q") == 0));
        if (ok && narrow) {
            mms = base + ((uint32_t *)v.buf)[0];
            mseq = ((uint32_t *)v.buf)[1];
            ok = ms - base <= UINT32_MAX && seq <= UINT32_MAX;
        } else if (ok) {
            mms = base + ((uint64_t *)v.buf)[0];
            mseq = ((uint64_t *)v.buf)[1];
        }
        PyBuffer_Release(&v);
        if (!ok)
            return 0;
        if (PyObject_GetBuffer(offs, &v, PyBUF_FORMAT) < 0) {
            PyErr_Clear();
            return 0;
        }
        narrow = v.itemsize == 2 && v.format && strcmp(v.format, "H") == 0;
        ok = narrow ? PyByteArray_Check(data) ? PyByteArray_GET_SIZE(data) <= 0xFFFF
                                               : PyBytes_Check(data) && PyBytes_GET_SIZE(data) <= 0xFFFF
                    : v.itemsize == 4 && v.format && strcmp(v.format, "I") == 0;
        PyBuffer_Release(&v);
        if (!ok)
            return 0;
    }
    if (!PyByteArray_CheckExact(data)) {
        if (!PyBytes_CheckExact(data))
            return 0;
        PyObject *ba = PyByteArray_FromObject(data);
        if (!ba)
            return -1;
        slot_set(node, o_data, ba);
        data = ba;
    }
    Py_ssize_t dlen = PyByteArray_GET_SIZE(data);
    PyObject *o = PyLong_FromSsize_t(dlen), *r;
    if (!o)
        return -1;
    r = call_method(S_append, offs, o, NULL);
    Py_DECREF(o);
    if (!r)
        return -1;
    Py_DECREF(r);
    long long size = int_size((int64_t)(ms - mms)) + int_size((int64_t)(seq - mseq));
    PyObject *m = PyLong_FromUnsignedLongLong(ms - base), *q = PyLong_FromUnsignedLongLong(seq);
    if (!m || !q) {
        Py_XDECREF(m);
        Py_XDECREF(q);
        return -1;
    }
    r = call_method(S_append, ids, m, NULL);
    Py_XDECREF(r);
    if (r) {
        r = call_method(S_append, ids, q, NULL);
        Py_XDECREF(r);
    }
    Py_DECREF(m);
    Py_DECREF(q);
    if (!r)
        return -1;
    int nf = (argc - f0) / 2, samef = PyList_GET_SIZE(fields) == nf;
    for (int i = 0; samef && i < nf; i++) {
        PyObject *f = PyList_GET_ITEM(fields, i);
        Arg a = args[f0 + 2 * i];
        samef = PyBytes_CheckExact(f) && PyBytes_GET_SIZE(f) == a.len &&
                memcmp(PyBytes_AS_STRING(f), d + a.off, a.len) == 0;
    }
    if (PyByteArray_Resize(flags, nflags + 1) < 0)
        return -1;
    PyByteArray_AS_STRING(flags)[nflags] = samef ? F_SAME : 0;
    if (samef) {
        size += same;
        for (int i = f0 + 1; i < argc; i += 2) {
            size += str_size((const unsigned char *)d + args[i].off, args[i].len);
            if (put_varint(data, &dlen, args[i].len) < 0 ||
                put_raw(data, &dlen, d + args[i].off, args[i].len) < 0)
                return -1;
        }
    } else { /* Stream._add_fields: the names are stored too */
        if (put_varint(data, &dlen, nf) < 0)
            return -1;
        long long sz = 0;
        for (int i = f0; i < argc; i++) {
            sz += str_size((const unsigned char *)d + args[i].off, args[i].len);
            if (put_varint(data, &dlen, args[i].len) < 0 ||
                put_raw(data, &dlen, d + args[i].off, args[i].len) < 0)
                return -1;
        }
        size += 2 + sz + int_size(nf) + int_size(2LL * nf + 4);
    }
    if (slot_set_ll(node, o_body, body + size) < 0 || slot_set_ll(node, o_live, live + 1) < 0)
        return -1;
    return 1;
}

/* The stream fields Stream.add moves after the append into the tail node. */
static int stream_bump(PyObject *s, PyObject *sid) {
    long long length, added;
    if (!slot_ll(s, o_length, &length) || !slot_ll(s, o_entries_added, &added)) {
        PyErr_SetString(PyExc_RuntimeError, "fastpath: stream counters are not ints");
        return -1;
    }
    if (slot_set_ll(s, o_length, length + 1) < 0 || slot_set_ll(s, o_entries_added, added + 1) < 0)
        return -1;
    Py_INCREF(sid);
    slot_set(s, o_last_id, sid);
    return 0;
}

static inline void remember_sid(PyObject *s, PyObject *sid, uint64_t ms, uint64_t seq) {
    if (SLOT(s, o_last_id) == sid)
        cache_sid(sid, ms, seq);
}

static PyObject *fields_list(const char *d, Arg *args, int f0, int argc) {
    return make_argv(d, args + f0, argc - f0);
}

/* A MAXLEN threshold as digits without sign or leading zero (else -1: Python parses) */
static long long canonical_count(const char *d, Arg a) {
    if (a.len < 1 || a.len > 18 || (a.len > 1 && d[a.off] == '0'))
        return -1;
    long long v = 0;
    for (Py_ssize_t i = 0; i < a.len; i++) {
        char ch = d[a.off + i];
        if (ch < '0' || ch > '9')
            return -1;
        v = v * 10 + (ch - '0');
    }
    return v;
}

/* XADD's options in the forms taken here */
typedef struct {
    int idpos, f0, approx, sarg; /* sarg: MAXLEN's threshold argument */
    long long maxlen;            /* -1: no MAXLEN */
} XArgs;

/* The common forms: [NOMKSTREAM] [MAXLEN [=|~] n] * field value ...; 0 for anything
 * else (LIMIT, MINID, policies, IDMP, explicit IDs and the errors: parse_add_trim) */
static int xadd_args(const char *d, Arg *args, int argc, XArgs *xa) {
    int i = 2;
    xa->approx = xa->sarg = 0;
    xa->maxlen = -1;
    if (arg_is(d, args[i], "nomkstream"))
        i++;
    if (i < argc - 3 && arg_is(d, args[i], "maxlen")) {
        i++;
        if (args[i].len == 1 && (d[args[i].off] == '~' || d[args[i].off] == '=')) {
            xa->approx = d[args[i].off] == '~';
            i++;
        }
        xa->sarg = i;
        if ((xa->maxlen = canonical_count(d, args[i])) < 0)
            return 0;
        i++;
    }
    if (i >= argc || args[i].len != 1 || d[args[i].off] != '*')
        return 0;
    xa->idpos = i;
    xa->f0 = i + 1;
    int nf = argc - xa->f0;
    return nf >= 2 && !(nf & 1);
}

/* The stream at key when XADD may run here (borrowed), NULL with no error set when
 * Python must run it: WATCH must see it, a blocked reader must wake, the key is new
 * (or NOMKSTREAM's null), has a TTL, is another type, or noting it for INFO keysizes
 * would make Database.touch settle the histograms. */
static PyObject *xadd_target(Ctx *x, PyObject *key, int *noted) {
    if (PyDict_GET_SIZE(x->watched) || PyDict_GET_SIZE(x->blocked_on)) {
        PyObject *k = PyTuple_Pack(2, x->db_index, key);
        if (!k)
            return NULL;
        int w = PyDict_Contains(x->watched, k), b = w ? 0 : PyDict_Contains(x->blocked_on, k);
        Py_DECREF(k);
        if (w || b)
            return NULL;
    }
    PyObject *s = PyDict_GetItemWithError(x->data, key);
    if (!s || Py_TYPE(s) != StreamType)
        return NULL;
    if (PyDict_GET_SIZE(x->expires) && PyDict_Contains(x->expires, key))
        return NULL;
    *noted = PySet_Contains(x->ks_dirty, key);
    if (*noted < 0 || PySet_GET_SIZE(x->ks_dirty) + !*noted > x->ks_cap)
        return NULL;
    return s;
}

/* The next ID after (lms, lseq) at the engine's clock, as xadd computes it */
static int next_id(Ctx *x, uint64_t lms, uint64_t lseq, uint64_t *ms, uint64_t *seq) {
    uint64_t now;
    if (x->clock == Py_None) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        now = (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
    } else {
        PyObject *t = PyObject_CallMethodNoArgs(x->clock, S_ms);
        if (!t)
            return -1;
        now = PyLong_AsUnsignedLongLong(t);
        Py_DECREF(t);
        if (now == (uint64_t)-1 && PyErr_Occurred())
            return -1;
    }
    if (now > lms) {
        *ms = now;
        *seq = 0;
    } else if (lseq == UINT64_MAX) {
        *ms = lms + 1;
        *seq = 0;
    } else {
        *ms = lms;
        *seq = lseq + 1;
    }
    return 0;
}

/* Stream.add: into the tail node here, or Stream.add itself for a new node */
static int stream_append(PyObject *s, PyObject *sid, const char *d, Arg *args, int f0,
                         int argc, uint64_t ms, uint64_t seq, Ctx *x) {
    int a = node_append(s, d, args, f0, argc, ms, seq, x);
    if (a != 0)
        return a == 1 ? stream_bump(s, sid) : -1;
    PyObject *fl = fields_list(d, args, f0, argc);
    PyObject *me = PyLong_FromLongLong(x->max_entries), *mb = PyLong_FromLongLong(x->max_bytes);
    PyObject *r = NULL;
    if (fl && me && mb) {
        PyObject *cargs[5] = {s, sid, fl, me, mb};
        r = PyObject_VectorcallMethod(S_add, cargs, 5, NULL);
    }
    Py_XDECREF(fl);
    Py_XDECREF(me);
    Py_XDECREF(mb);
    Py_XDECREF(r);
    return r ? 0 : -1;
}

/* MAXLEN: Stream.trim as trim_stream calls it (KEEPREF); *length: the length left */
static int xadd_trim(PyObject *s, XArgs *xa, Ctx *x, long long *length) {
    if (!slot_ll(s, o_length, length)) {
        PyErr_SetString(PyExc_RuntimeError, "fastpath: stream length is not an int");
        return -1;
    }
    if (*length <= xa->maxlen)
        return 0;
    long long limit = 0;
    if (xa->approx) { /* parse_add_trim's default LIMIT */
        limit = 100 * x->max_entries;
        if (limit <= 0)
            limit = 10000;
        if (limit > 1000000)
            limit = 1000000;
    }
    PyObject *r = PyObject_CallMethod(s, "trim", "iLiiL", 1, xa->maxlen, 0, xa->approx, limit);
    if (!r)
        return -1;
    Py_DECREF(r);
    return slot_ll(s, o_length, length) ? 0 : -1;
}

/* The effect as xadd's rewrite records it: the generated ID for *, and after an
 * approximate trim MAXLEN = <length left> (rewrite_trim_args) */
static int xadd_effect(Ctx *x, const char *d, Arg *args, int argc, XArgs *xa, const char *idb,
                       int idn, long long length) {
    PyObject *argv = make_argv(d, args, argc);
    if (!argv)
        return -1;
    PyObject *idobj = PyBytes_FromStringAndSize(idb, idn);
    if (!idobj)
        goto error;
    Py_SETREF(PyList_GET_ITEM(argv, xa->idpos), idobj);
    if (xa->approx) {
        PyObject *eq = PyBytes_FromStringAndSize("=", 1);
        if (!eq)
            goto error;
        Py_SETREF(PyList_GET_ITEM(argv, xa->sarg - 1), eq);
        char lb[24]; /* not PyBytes_FromFormat: Python 3.11's copies %lld as text */
        PyObject *len = PyBytes_FromStringAndSize(lb, fmt_u64(lb, (uint64_t)length));
        if (!len)
            goto error;
        Py_SETREF(PyList_GET_ITEM(argv, xa->sarg), len);
    }
    PyObject *eff = PyTuple_Pack(2, x->db_index, argv);
    Py_DECREF(argv);
    if (!eff)
        return -1;
    int r = PyList_Append(x->effects, eff);
    Py_DECREF(eff);
    return r;
error:
    Py_DECREF(argv);
    return -1;
}

/* 1 done (the new ID in idb[0..*idn), at least 48 bytes), 0 for Python's path, -1 error */
static int do_xadd(Ctx *x, const char *d, Arg *args, int argc, char *idb, int *idn) {
    XArgs xa;
    if (!xadd_args(d, args, argc, &xa))
        return 0;
    PyObject *key = PyBytes_FromStringAndSize(d + args[1].off, args[1].len);
    if (!key)
        return -1;
    int noted = 0;
    PyObject *s = xadd_target(x, key, &noted), *sid = NULL, *last;
    uint64_t lms, lseq, ms, seq;
    if (!s || !(last = SLOT(s, o_last_id)) || !id_split(last, &lms, &lseq) ||
        (lms == UINT64_MAX && lseq == UINT64_MAX)) { /* (exhausted: Python's error) */
        Py_DECREF(key);
        return PyErr_Occurred() ? -1 : 0;
    }
    Py_INCREF(s);
    long long length = 0;
    int ok = next_id(x, lms, lseq, &ms, &seq) == 0 && (sid = id_long(ms, seq)) != NULL &&
             stream_append(s, sid, d, args, xa.f0, argc, ms, seq, x) == 0 &&
             (xa.maxlen < 0 || xadd_trim(s, &xa, x, &length) == 0) &&
             (noted || PySet_Add(x->ks_dirty, key) == 0);
    if (ok)
        remember_sid(s, sid, ms, seq);
    Py_DECREF(s);
    Py_DECREF(key);
    Py_XDECREF(sid);
    if (!ok)
        return -1;
    int n = fmt_u64(idb, ms);
    idb[n++] = '-';
    n += fmt_u64(idb + n, seq);
    *idn = n;
    if (x->effects != Py_None && xadd_effect(x, d, args, argc, &xa, idb, n, length) < 0)
        return -1;
    return 1;
}

/* -- the batch ---------------------------------------------------------------------- */

static inline long long now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int count(KStat *k, long long usec) {
    k->calls++;
    k->usec += usec;
    if (usec < KSTAT_LOW) {
        k->low[usec]++;
        return 0;
    }
    if (!k->hist && !(k->hist = PyDict_New()))
        return -1;
    PyObject *u = PyLong_FromLongLong(usec);
    if (!u)
        return -1;
    PyObject *old = PyDict_GetItemWithError(k->hist, u);
    long long n = old ? PyLong_AsLongLong(old) : 0;
    PyObject *nv = PyLong_FromLongLong(n + 1);
    int r = nv ? PyDict_SetItem(k->hist, u, nv) : -1;
    Py_DECREF(u);
    Py_XDECREF(nv);
    return r;
}

/* [(name, calls, usec, {usec: calls}), ...] for the kinds that ran */
static PyObject *stats_list(KStat *ks) {
    PyObject *stats = PyList_New(0);
    if (!stats)
        return NULL;
    for (int k = 1; k < K_N; k++) {
        if (!ks[k].calls)
            continue;
        for (long long u = 0; u < KSTAT_LOW; u++) {
            if (!ks[k].low[u])
                continue;
            if (!ks[k].hist && !(ks[k].hist = PyDict_New()))
                goto error;
            PyObject *z = PyLong_FromLongLong(u), *c = PyLong_FromLongLong(ks[k].low[u]);
            int r = z && c ? PyDict_SetItem(ks[k].hist, z, c) : -1;
            Py_XDECREF(z);
            Py_XDECREF(c);
            if (r < 0)
                goto error;
        }
        PyObject *t = Py_BuildValue("(OLLO)", fp_kind_name[k], ks[k].calls, ks[k].usec,
                                    ks[k].hist);
        if (!t || PyList_Append(stats, t) < 0) {
            Py_XDECREF(t);
            goto error;
        }
        Py_DECREF(t);
    }
    return stats;
error:
    Py_DECREF(stats);
    return NULL;
}

long long fp_served; /* commands fp_run answered, for the tests (fastpath_served) */

void fp_run_init(FpRun *r) {
    r->out.p = r->out.small;
    r->out.len = 0;
    r->out.cap = sizeof r->out.small;
    memset(r->ks, 0, sizeof r->ks);
    r->ncmds = r->dirty = 0;
    r->status = ST_END;
    r->last = K_NONE;
    r->extra = NULL;
}

void fp_run_clear(FpRun *r) {
    Py_CLEAR(r->extra);
    for (int k = 0; k < K_N; k++)
        Py_CLEAR(r->ks[k].hist);
    if (r->out.p != r->out.small)
        PyMem_Free(r->out.p);
    r->out.p = r->out.small;
    r->out.len = 0;
}

/* A command at args failed (an exception is set, MemoryError above all): its name and
 * the exception as r->extra, for Python to answer as it answers a failing command
 * (Server.internal_error); 0, or -1 when even that could not be made. */
static int command_failed(FpRun *r, Arg a0) {
    PyObject *t, *v, *tb;
    PyErr_Fetch(&t, &v, &tb);
    PyErr_NormalizeException(&t, &v, &tb);
    if (tb && v)
        PyException_SetTraceback(v, tb);
    PyObject *name = PyBytes_FromStringAndSize(r->d + a0.off, a0.len);
    PyObject *extra = name && v ? PyTuple_Pack(2, name, v) : NULL;
    Py_XDECREF(name);
    if (!extra) {
        Py_XDECREF(t);
        Py_XDECREF(v);
        Py_XDECREF(tb);
        return -1;
    }
    Py_XDECREF(t);
    Py_XDECREF(v);
    Py_XDECREF(tb);
    Py_XSETREF(r->extra, extra);
    r->status = ST_ERROR;
    return 0;
}

int fp_run(FpRun *r) {
    if (StreamType == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "fast_run: setup_fastpath() was not called");
        return -1;
    }
    const char *d = r->d;
    Py_ssize_t n = r->n, pos = r->pos;
    long long room = r->room;
    Ctx x = {r->data, r->expires, r->db_index, r->watched, r->blocked_on, r->effects, r->clock,
             r->ks_dirty, r->max_entries, r->max_bytes, r->ks_cap};
    OBuf *out = &r->out;
    KStat *ks = r->ks;
    Arg args[MAX_ARGS];
    int argc, rc = 0;
    long long t_next = now_ns();
    r->status = ST_END;
    while (1) {
        if (pos >= n) {
            r->status = ST_END;
            break;
        }
        Py_ssize_t p = pos;
        int parsed = parse_cmd(d, n, &p, args, &argc);
        if (parsed != P_DONE) {
            r->status = parsed == P_INCOMPLETE ? ST_PARTIAL : ST_HANDOVER;
            break;
        }
        Arg a0 = args[0];
        int kind = K_NONE, done = 0;
        long long t0 = t_next;
        Py_ssize_t before = out->len;
        if (arg_is(d, a0, "ping") && argc <= 2) {
            kind = K_PING;
            done = argc == 1 ? ob_put(out, "+PONG\r\n", 7)
                             : ob_bulk(out, d + args[1].off, args[1].len);
            done = done < 0 ? -1 : 1;
        } else if (arg_is(d, a0, "echo") && argc == 2) {
            kind = K_ECHO;
            done = ob_bulk(out, d + args[1].off, args[1].len) < 0 ? -1 : 1;
        } else if (argc >= 5 && arg_is(d, a0, "xadd")) {
            kind = K_XADD;
            char idb[48];
            int idn = 0;
            done = do_xadd(&x, d, args, argc, idb, &idn);
            if (done == 1) {
                r->dirty++;
                done = ob_bulk(out, idb, idn) < 0 ? -1 : 1;
            }
        }
        if (!done) { /* Python runs it */
            PyObject *argv = make_argv(d, args, argc);
            if (argv) {
                Py_XSETREF(r->extra, argv);
                r->status = ST_ARGV;
                pos = p;
                break;
            }
            done = -1;
        }
        if (done < 0) { /* the command failed: Python answers it (ST_ERROR) */
            out->len = before;
            if (command_failed(r, a0) < 0)
                rc = -1;
            else
                pos = p;
            break;
        }
        t_next = now_ns(); /* this command's end, the next one's start */
        long long usec = (t_next - t0) / 1000;
        if (count(&ks[kind], usec) < 0) {
            rc = -1;
            break;
        }
        r->ncmds++;
        r->last = kind;
        pos = p;
        room -= out->len - before;
        if (usec >= r->observe) { /* the slow log / latency monitor: Python records it */
            PyObject *argv = make_argv(d, args, argc);
            PyObject *extra = argv ? Py_BuildValue("(NL)", argv, usec) : NULL;
            if (!extra) {
                rc = -1;
                break;
            }
            Py_XSETREF(r->extra, extra);
            r->status = ST_SLOW;
            break;
        }
        if (room < 0) {
            r->status = ST_ROOM;
            break;
        }
    }
    r->pos = pos;
    r->room = room;
    fp_served += r->ncmds;
    if (!r->extra)
        r->extra = Py_NewRef(Py_None);
    return rc;
}

/* fast_run(data, pos, room, db_data, db_expires, db_index, watched, blocked_on, effects,
 *          clock_or_None, max_entries, max_bytes, observe_usec, db_ks_dirty, db_ks_cap)
 * -> (pos, status, replies, commands, dirty, stats, extra, last_kind) */
PyObject *fp_fast_run(PyObject *self, PyObject *const *av, Py_ssize_t nargs) {
    if (nargs != 15 || !PyBytes_Check(av[0]) || !PyDict_CheckExact(av[3]) ||
        !PySet_CheckExact(av[13]) ||
        !PyDict_CheckExact(av[4]) || !PyDict_CheckExact(av[6]) || !PyDict_CheckExact(av[7]) ||
        (av[8] != Py_None && !PyList_CheckExact(av[8]))) {
        PyErr_SetString(PyExc_TypeError, "fast_run: bad arguments");
        return NULL;
    }
    FpRun r;
    fp_run_init(&r);
    r.d = PyBytes_AS_STRING(av[0]);
    r.n = PyBytes_GET_SIZE(av[0]);
    r.pos = PyLong_AsSsize_t(av[1]);
    r.room = PyLong_AsLongLong(av[2]);
    r.data = av[3];
    r.expires = av[4];
    r.db_index = av[5];
    r.watched = av[6];
    r.blocked_on = av[7];
    r.effects = av[8];
    r.clock = av[9];
    r.ks_dirty = av[13];
    r.max_entries = PyLong_AsLongLong(av[10]);
    r.max_bytes = PyLong_AsLongLong(av[11]);
    r.ks_cap = PyLong_AsLongLong(av[14]);
    r.observe = PyLong_AsLongLong(av[12]);
    if (PyErr_Occurred())
        return NULL;
    PyObject *result = NULL;
    if (fp_run(&r) == 0) {
        PyObject *stats = stats_list(r.ks), *replies = NULL;
        if (stats)
            replies = r.out.len ? PyBytes_FromStringAndSize(r.out.p, r.out.len)
                                : Py_NewRef(Py_None);
        if (!replies)
            Py_XDECREF(stats);
        else
            result = Py_BuildValue("(niNLLNOi)", r.pos, r.status, replies, r.ncmds, r.dirty,
                                   stats, r.extra, r.last);
    }
    fp_run_clear(&r);
    return result;
}

/* The most bytes of arguments fast_xadd copies (a longer XADD: Python's path) */
#define XADD_ARGV_MAX (1 << 16)

/* fast_xadd(argv, db_data, db_expires, db_index, watched, blocked_on, effects,
 *           clock_or_None, max_entries, max_bytes, db_ks_dirty, db_ks_cap)
 * -> (id, usec) | None
 * One XADD given as its argv (the embedded connection's single commands, see
 * engine/fastpath.py): what fast_run does for an XADD in a read, on the same terms;
 * None when Python's path must run it (and then nothing was changed). The arguments
 * are copied into one buffer so that do_xadd reads them as it reads a request. */
PyObject *fp_fast_xadd(PyObject *self, PyObject *const *av, Py_ssize_t nargs) {
    if (nargs != 12 || !PyList_CheckExact(av[0]) || !PyDict_CheckExact(av[1]) ||
        !PyDict_CheckExact(av[2]) || !PyDict_CheckExact(av[4]) || !PyDict_CheckExact(av[5]) ||
        (av[6] != Py_None && !PyList_CheckExact(av[6])) || !PySet_CheckExact(av[10])) {
        PyErr_SetString(PyExc_TypeError, "fast_xadd: bad arguments");
        return NULL;
    }
    if (StreamType == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "fast_xadd: setup_fastpath() was not called");
        return NULL;
    }
    long long t0 = now_ns();
    PyObject *argv = av[0];
    Py_ssize_t argc = PyList_GET_SIZE(argv), total = 0;
    if (argc < 5 || argc > MAX_ARGS)
        Py_RETURN_NONE;
    for (Py_ssize_t i = 0; i < argc; i++) {
        PyObject *a = PyList_GET_ITEM(argv, i);
        if (!PyBytes_CheckExact(a))
            Py_RETURN_NONE;
        total += PyBytes_GET_SIZE(a);
    }
    if (total > XADD_ARGV_MAX)
        Py_RETURN_NONE;
    Ctx x = {av[1], av[2], av[3], av[4], av[5], av[6], av[7], av[10], 0, 0, 0};
    x.max_entries = PyLong_AsLongLong(av[8]);
    x.max_bytes = PyLong_AsLongLong(av[9]);
    x.ks_cap = PyLong_AsLongLong(av[11]);
    if (PyErr_Occurred())
        return NULL;
    char small[4096], *d = small;
    if (total > (Py_ssize_t)sizeof small && !(d = PyMem_Malloc(total)))
        return PyErr_NoMemory();
    Arg args[MAX_ARGS];
    Py_ssize_t off = 0;
    for (Py_ssize_t i = 0; i < argc; i++) {
        PyObject *a = PyList_GET_ITEM(argv, i);
        args[i].off = off;
        args[i].len = PyBytes_GET_SIZE(a);
        memcpy(d + off, PyBytes_AS_STRING(a), args[i].len);
        off += args[i].len;
    }
    PyObject *result = NULL;
    char idb[48];
    int idn = 0;
    int done = arg_is(d, args[0], "xadd") ? do_xadd(&x, d, args, (int)argc, idb, &idn) : 0;
    if (done == 0)
        result = Py_NewRef(Py_None);
    else if (done == 1)
        result = Py_BuildValue("(y#L)", idb, (Py_ssize_t)idn, (now_ns() - t0) / 1000);
    if (d != small)
        PyMem_Free(d);
    return result;
}

int slot_offset(PyTypeObject *t, const char *name, Py_ssize_t *off) {
    PyObject *descr = PyDict_GetItemString(t->tp_dict, name);
    if (!descr || Py_TYPE(descr) != &PyMemberDescr_Type) {
        PyErr_Format(PyExc_TypeError, "%s.%s is not a slot", t->tp_name, name);
        return -1;
    }
    PyMemberDef *m = ((PyMemberDescrObject *)descr)->d_member;
    if (m->type != T_OBJECT_EX) {
        PyErr_Format(PyExc_TypeError, "%s.%s is not an object slot", t->tp_name, name);
        return -1;
    }
    *off = m->offset;
    return 0;
}

/* setup_fastpath(Stream, _Node): the classes whose slots fast_run writes */
PyObject *fp_setup(PyObject *self, PyObject *args) {
    PyObject *st, *nt;
    if (!PyArg_ParseTuple(args, "O!O!", &PyType_Type, &st, &PyType_Type, &nt))
        return NULL;
    PyTypeObject *S = (PyTypeObject *)st, *N = (PyTypeObject *)nt;
    if (slot_offset(S, "_nodes", &o_nodes) || slot_offset(S, "length", &o_length) ||
        slot_offset(S, "last_id", &o_last_id) ||
        slot_offset(S, "entries_added", &o_entries_added) || slot_offset(N, "ids", &o_ids) ||
        slot_offset(N, "flags", &o_flags) || slot_offset(N, "offs", &o_offs) ||
        slot_offset(N, "data", &o_data) || slot_offset(N, "fields", &o_fields) ||
        slot_offset(N, "live", &o_live) || slot_offset(N, "dead", &o_dead) ||
        slot_offset(N, "body", &o_body) || slot_offset(N, "same_size", &o_same) ||
        slot_offset(N, "base", &o_base))
        return NULL;
    if (!S_append) {
        S_append = PyUnicode_InternFromString("append");
        S_add = PyUnicode_InternFromString("add");
        S_ms = PyUnicode_InternFromString("ms");
        fp_kind_name[K_NONE] = PyUnicode_InternFromString("");
        fp_kind_name[K_PING] = PyUnicode_InternFromString("ping");
        fp_kind_name[K_ECHO] = PyUnicode_InternFromString("echo");
        fp_kind_name[K_XADD] = PyUnicode_InternFromString("xadd");
        if (!S_append || !S_add || !S_ms || !fp_kind_name[0] || !fp_kind_name[1] || !fp_kind_name[2] ||
            !fp_kind_name[3])
            return NULL;
    }
    Py_INCREF(S);
    Py_INCREF(N);
    Py_XSETREF(StreamType, S);
    Py_XSETREF(NodeType, N);
    Py_RETURN_NONE;
}
