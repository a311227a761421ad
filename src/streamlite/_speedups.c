/* streamlite._speedups: compiled twins of a few pure-Python hot paths.
 *
 * The model: the pure-Python engine is the reference and the fallback. Each
 * function here does exactly what a named Python function does, for the inputs
 * it handles, and hands anything else back to Python:
 *
 *   encode(value, proto)        protocol/resp.py  encode_py       (RESP2/RESP3 reply bytes)
 *   entries_fwd(nodes, i, ...)  engine/stream/stream.py  Stream.entries_py, forward
 *                               (the live entries of a range as [[id, fields], ...])
 *   entries_resp(nodes, i, ...) encode_py(Stream.entries_py(...)): the same range
 *                               written straight to RESP bytes (RawResp replies)
 *   node_from_listpack(lp, ...) engine/rdbstream.py  _node_from_listpack_py
 *                               (a Redis stream listpack as our node's arrays:
 *                               RESTORE, RDB and AOF-preamble loading)
 *   convert(value, proto)       embedded/convert.py  convert_py(value, proto, None)
 *                               (replies as redis-py gets them, without decoding)
 *   fast_run(data, pos, ...)    Engine.execute of pipelined PING/ECHO/XADD, from the
 *                               raw bytes of a read to the replies (_fastpath.c)
 *   fast_xadd(argv, ...)        the same for one XADD given as an argv list
 *   parse_ids(fallback, items)  stream IDs <ms>-<seq> as ints (XACK's, ids.py)
 *   stream_nodes(buf, pos, ...) engine/serialize.py  stream_nodes_py (the nodes of a
 *                               stream of an AOF base, snapshot or our RESTORE payload,
 *                               read, checked and built as _Node objects in one call,
 *                               the copying without the GIL: _loadpath.c)
 *   prefault_heap(n), trim_heap()  no twin (memory placement only: without them a load
 *                               takes its page faults itself): the server's load
 *                               thread faults in its heap without the GIL (_loadpath.c)
 *
 * streamlite/accel.py decides whether this module is used (STREAMLITE_PURE=1
 * forces pure Python); tests/engine/test_speedups.py runs each function against
 * its Python twin on random inputs.
 *
 * Built by setup.py as an optional extension: a machine without a compiler
 * installs and runs the pure-Python path.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

#include "_fastpath.h"

/* ------------------------------------------------------------------------ */
/* A growable output buffer                                                  */

typedef struct {
    char *buf;
    Py_ssize_t len;
    Py_ssize_t cap;
    char small[512];
} Buf;

static void buf_init(Buf *b) {
    b->buf = b->small;
    b->len = 0;
    b->cap = (Py_ssize_t)sizeof(b->small);
}

static void buf_free(Buf *b) {
    if (b->buf != b->small)
        PyMem_Free(b->buf);
}

static int buf_reserve(Buf *b, Py_ssize_t extra) {
    Py_ssize_t need = b->len + extra;
    if (need <= b->cap)
        return 0;
    Py_ssize_t cap = b->cap * 2;
    if (cap < need)
        cap = need;
    char *nb;
    if (b->buf == b->small) {
        nb = PyMem_Malloc((size_t)cap);
        if (nb != NULL)
            memcpy(nb, b->small, (size_t)b->len);
    } else {
        nb = PyMem_Realloc(b->buf, (size_t)cap);
    }
    if (nb == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    b->buf = nb;
    b->cap = cap;
    return 0;
}

static inline int buf_put(Buf *b, const char *s, Py_ssize_t n) {
    if (buf_reserve(b, n) < 0)
        return -1;
    memcpy(b->buf + b->len, s, (size_t)n);
    b->len += n;
    return 0;
}


/* "<c><n>\r\n" */
static inline int fmt_header(char *out, char c, long long n) {
    int len = 0;
    out[len++] = c;
    if (n < 0) {
        out[len++] = '-';
        len += fmt_u64(out + len, (uint64_t)0 - (uint64_t)n);
    } else {
        len += fmt_u64(out + len, (uint64_t)n);
    }
    out[len++] = '\r';
    out[len++] = '\n';
    return len;
}

static inline int buf_header(Buf *b, char c, long long n) {
    if (buf_reserve(b, 24) < 0)
        return -1;
    b->len += fmt_header(b->buf + b->len, c, n);
    return 0;
}

static inline int buf_bulk(Buf *b, const char *s, Py_ssize_t n) {
    if (buf_reserve(b, n + 24) < 0)
        return -1;
    b->len += fmt_header(b->buf + b->len, '$', (long long)n);
    memcpy(b->buf + b->len, s, (size_t)n);
    b->len += n;
    b->buf[b->len++] = '\r';
    b->buf[b->len++] = '\n';
    return 0;
}

/* ------------------------------------------------------------------------ */
/* encode: reply values (engine/replies.py) as RESP2 / RESP3                  */

/* set by setup(): the reply classes and the Python encoder for what C leaves alone */
static PyTypeObject *T_SimpleString, *T_ErrorReply, *T_RespSet, *T_Push, *T_MultiReply,
    *T_RawResp;
static PyObject *NULL_ARRAY_OBJ, *py_fallback;

static int enc(Buf *b, PyObject *v, int proto);

static int enc_items(Buf *b, PyObject *seq, int proto) {
    /* the size is read each time round: a fallback call runs Python code */
    for (Py_ssize_t i = 0; i < PySequence_Fast_GET_SIZE(seq); i++) {
        PyObject *x = PySequence_Fast_GET_ITEM(seq, i);
        if (Py_IS_TYPE(x, &PyBytes_Type)) {
            if (buf_bulk(b, PyBytes_AS_STRING(x), PyBytes_GET_SIZE(x)) < 0)
                return -1;
            continue;
        }
        Py_INCREF(x);
        int r = enc(b, x, proto);
        Py_DECREF(x);
        if (r < 0)
            return -1;
    }
    return 0;
}

static int enc_fallback(Buf *b, PyObject *v, int proto) {
    PyObject *r = PyObject_CallFunction(py_fallback, "Oi", v, proto);
    if (r == NULL)
        return -1;
    if (!PyBytes_Check(r)) {
        Py_DECREF(r);
        PyErr_SetString(PyExc_TypeError, "the reply fallback must return bytes");
        return -1;
    }
    int rc = buf_put(b, PyBytes_AS_STRING(r), PyBytes_GET_SIZE(r));
    Py_DECREF(r);
    return rc;
}

static int enc(Buf *b, PyObject *v, int proto) {
    PyTypeObject *t = Py_TYPE(v);
    if (t == &PyBytes_Type)
        return buf_bulk(b, PyBytes_AS_STRING(v), PyBytes_GET_SIZE(v));
    if (t == &PyLong_Type) {
        int overflow = 0;
        long long x = PyLong_AsLongLongAndOverflow(v, &overflow);
        if (overflow)
            return enc_fallback(b, v, proto);
        if (x == -1 && PyErr_Occurred())
            return -1;
        return buf_header(b, ':', x);
    }
    if (t == &PyList_Type || t == &PyTuple_Type) {
        if (buf_header(b, '*', PySequence_Fast_GET_SIZE(v)) < 0)
            return -1;
        if (Py_EnterRecursiveCall(" while encoding a reply"))
            return -1;
        int r = enc_items(b, v, proto);
        Py_LeaveRecursiveCall();
        return r;
    }
    if (t == T_SimpleString) {
        if (buf_reserve(b, PyBytes_GET_SIZE(v) + 3) < 0)
            return -1;
        b->buf[b->len++] = '+';
        memcpy(b->buf + b->len, PyBytes_AS_STRING(v), (size_t)PyBytes_GET_SIZE(v));
        b->len += PyBytes_GET_SIZE(v);
        b->buf[b->len++] = '\r';
        b->buf[b->len++] = '\n';
        return 0;
    }
    if (t == T_ErrorReply) {
        Py_ssize_t n = PyBytes_GET_SIZE(v);
        const char *s = PyBytes_AS_STRING(v);
        if (buf_reserve(b, n + 3) < 0)
            return -1;
        char *o = b->buf + b->len;
        *o++ = '-';
        for (Py_ssize_t i = 0; i < n; i++)
            *o++ = (s[i] == '\r' || s[i] == '\n') ? ' ' : s[i];
        *o++ = '\r';
        *o++ = '\n';
        b->len = o - b->buf;
        return 0;
    }
    if (t == T_RawResp)
        return buf_put(b, PyBytes_AS_STRING(v), PyBytes_GET_SIZE(v));
    if (v == Py_None)
        return proto == 3 ? buf_put(b, "_\r\n", 3) : buf_put(b, "$-1\r\n", 5);
    if (v == NULL_ARRAY_OBJ)
        return proto == 3 ? buf_put(b, "_\r\n", 3) : buf_put(b, "*-1\r\n", 5);
    if (t == &PyDict_Type) {
        Py_ssize_t n = PyDict_GET_SIZE(v);
        if (buf_header(b, proto == 3 ? '%' : '*', proto == 3 ? n : 2 * n) < 0)
            return -1;
        if (Py_EnterRecursiveCall(" while encoding a reply"))
            return -1;
        Py_ssize_t pos = 0;
        PyObject *k, *x;
        int r = 0;
        while (PyDict_Next(v, &pos, &k, &x)) {
            Py_INCREF(k);
            Py_INCREF(x);
            r = enc(b, k, proto);
            if (r == 0)
                r = enc(b, x, proto);
            Py_DECREF(k);
            Py_DECREF(x);
            if (r < 0)
                break;
        }
        Py_LeaveRecursiveCall();
        return r;
    }
    if (t == &PyBool_Type) {
        if (proto == 3)
            return buf_put(b, v == Py_True ? "#t\r\n" : "#f\r\n", 4);
        return buf_put(b, v == Py_True ? ":1\r\n" : ":0\r\n", 4);
    }
    if (t == T_RespSet || t == T_Push || t == T_MultiReply) {
        if (t != T_MultiReply) {
            char c = proto == 3 ? (t == T_RespSet ? '~' : '>') : '*';
            if (buf_header(b, c, PyList_GET_SIZE(v)) < 0)
                return -1;
        }
        if (Py_EnterRecursiveCall(" while encoding a reply"))
            return -1;
        int r = enc_items(b, v, proto);
        Py_LeaveRecursiveCall();
        return r;
    }
    /* doubles, big numbers, verbatim text, subclasses, str: the Python encoder */
    return enc_fallback(b, v, proto);
}

static PyObject *sp_encode(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs < 1 || nargs > 2) {
        PyErr_SetString(PyExc_TypeError, "encode(value, proto=2)");
        return NULL;
    }
    if (py_fallback == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "_speedups.setup() was not called");
        return NULL;
    }
    int proto = 2;
    if (nargs == 2) {
        long p = PyLong_AsLong(args[1]);
        if (p == -1 && PyErr_Occurred())
            return NULL;
        proto = (int)p;
    }
    PyObject *v = args[0];
    if (Py_IS_TYPE(v, &PyBytes_Type)) {  /* the most common reply: one allocation */
        Py_ssize_t n = PyBytes_GET_SIZE(v);
        char head[24];
        int h = fmt_header(head, '$', (long long)n);
        PyObject *r = PyBytes_FromStringAndSize(NULL, h + n + 2);
        if (r == NULL)
            return NULL;
        char *o = PyBytes_AS_STRING(r);
        memcpy(o, head, (size_t)h);
        memcpy(o + h, PyBytes_AS_STRING(v), (size_t)n);
        o[h + n] = '\r';
        o[h + n + 1] = '\n';
        return r;
    }
    Buf b;
    buf_init(&b);
    if (enc(&b, v, proto) < 0) {
        buf_free(&b);
        return NULL;
    }
    PyObject *r = PyBytes_FromStringAndSize(b.buf, b.len);
    buf_free(&b);
    return r;
}

static PyObject *sp_setup(PyObject *self, PyObject *args, PyObject *kw) {
    static char *names[] = {"SimpleString", "ErrorReply", "RespSet", "Push", "MultiReply",
                            "RawResp", "NULL_ARRAY", "fallback", NULL};
    PyObject *ss, *er, *rs, *pu, *mr, *rr, *na, *fb;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "O!O!O!O!O!O!OO:setup", names, &PyType_Type, &ss,
                                     &PyType_Type, &er, &PyType_Type, &rs, &PyType_Type, &pu,
                                     &PyType_Type, &mr, &PyType_Type, &rr, &na, &fb))
        return NULL;
    if (!PyType_IsSubtype((PyTypeObject *)ss, &PyBytes_Type) ||
        !PyType_IsSubtype((PyTypeObject *)er, &PyBytes_Type) ||
        !PyType_IsSubtype((PyTypeObject *)rr, &PyBytes_Type) ||
        !PyType_IsSubtype((PyTypeObject *)rs, &PyList_Type) ||
        !PyType_IsSubtype((PyTypeObject *)pu, &PyList_Type) ||
        !PyType_IsSubtype((PyTypeObject *)mr, &PyList_Type)) {
        PyErr_SetString(PyExc_TypeError, "setup: reply classes of the wrong base type");
        return NULL;
    }
    Py_INCREF(ss); Py_INCREF(er); Py_INCREF(rs); Py_INCREF(pu); Py_INCREF(mr);
    Py_INCREF(rr); Py_INCREF(na); Py_INCREF(fb);
    Py_XDECREF(T_SimpleString); Py_XDECREF(T_ErrorReply); Py_XDECREF(T_RespSet);
    Py_XDECREF(T_Push); Py_XDECREF(T_MultiReply); Py_XDECREF(NULL_ARRAY_OBJ);
    Py_XDECREF(T_RawResp); Py_XDECREF(py_fallback);
    T_SimpleString = (PyTypeObject *)ss;
    T_ErrorReply = (PyTypeObject *)er;
    T_RespSet = (PyTypeObject *)rs;
    T_Push = (PyTypeObject *)pu;
    T_MultiReply = (PyTypeObject *)mr;
    T_RawResp = (PyTypeObject *)rr;
    NULL_ARRAY_OBJ = na;
    py_fallback = fb;
    Py_RETURN_NONE;
}

/* ------------------------------------------------------------------------ */
/* entries_fwd: Stream.entries in ID order, node by node                      */

#define F_DELETED 1
#define F_SAME 2

static PyObject *S_ids, *S_flags, *S_offs, *S_data, *S_fields, *S_base;

/* a varint length (stream.py's _varint / _read_varint); -1 past the end */
static inline int64_t read_varint(const unsigned char *d, Py_ssize_t len, Py_ssize_t *pos) {
    uint64_t n = 0;
    int shift = 0;
    while (*pos < len && shift < 63) {
        unsigned char c = d[(*pos)++];
        n |= (uint64_t)(c & 127) << shift;
        if (c < 128)
            return (int64_t)n;
        shift += 7;
    }
    return -1;
}

static inline PyObject *take_bytes(const unsigned char *d, Py_ssize_t len, Py_ssize_t *pos) {
    int64_t n = read_varint(d, len, pos);
    if (n < 0 || n > len - *pos) {
        PyErr_SetString(PyExc_ValueError, "corrupt stream node data");
        return NULL;
    }
    PyObject *r = PyBytes_FromStringAndSize((const char *)d + *pos, (Py_ssize_t)n);
    *pos += (Py_ssize_t)n;
    return r;
}

static PyObject *u128(uint64_t ms, uint64_t seq) {
    unsigned char b[16];
    for (int k = 0; k < 8; k++) {
        b[k] = (unsigned char)(seq >> (8 * k));
        b[8 + k] = (unsigned char)(ms >> (8 * k));
    }
    return _PyLong_FromByteArray(b, 16, 1, 0);
}

/* the fields of entry j as node.decode(j) returns them */
static PyObject *decode_entry(const unsigned char *d, Py_ssize_t len, Py_ssize_t pos,
                              int same, PyObject *names) {
    if (pos < 0 || pos > len) {
        PyErr_SetString(PyExc_ValueError, "corrupt stream node offsets");
        return NULL;
    }
    PyObject *out;
    if (same) {
        Py_ssize_t nf = PyList_GET_SIZE(names);
        out = PyList_New(2 * nf);
        if (out == NULL)
            return NULL;
        for (Py_ssize_t k = 0; k < nf; k++) {
            PyObject *name = PyList_GET_ITEM(names, k);
            Py_INCREF(name);
            PyList_SET_ITEM(out, 2 * k, name);
            PyObject *val = take_bytes(d, len, &pos);
            if (val == NULL) {
                Py_DECREF(out);
                return NULL;
            }
            PyList_SET_ITEM(out, 2 * k + 1, val);
        }
        return out;
    }
    int64_t cnt = read_varint(d, len, &pos);
    if (cnt < 0 || cnt > len) {
        PyErr_SetString(PyExc_ValueError, "corrupt stream node data");
        return NULL;
    }
    out = PyList_New((Py_ssize_t)(2 * cnt));
    if (out == NULL)
        return NULL;
    for (Py_ssize_t k = 0; k < 2 * cnt; k++) {
        PyObject *x = take_bytes(d, len, &pos);
        if (x == NULL) {
            Py_DECREF(out);
            return NULL;
        }
        PyList_SET_ITEM(out, k, x);
    }
    return out;
}

/* A node's arrays (stream.py's _Node): ids are (ms - base, seq) pairs of 4 or 8 bytes
 * each (array 'I' or 'Q'), offs 2 or 4 bytes (array 'H' or 'I'); read with the
 * accessors below, whatever the widths. */
typedef struct {
    Py_buffer ids, flags, offs, data;
    int have;  /* how many of the four are held */
    PyObject *names;
    uint64_t base;
    int wide_ids, wide_offs;
} NodeView;

static inline uint64_t nv_ms(const NodeView *nv, Py_ssize_t j) {
    return nv->base + (nv->wide_ids ? ((const uint64_t *)nv->ids.buf)[2 * j]
                                    : ((const uint32_t *)nv->ids.buf)[2 * j]);
}

static inline uint64_t nv_seq(const NodeView *nv, Py_ssize_t j) {
    return nv->wide_ids ? ((const uint64_t *)nv->ids.buf)[2 * j + 1]
                        : ((const uint32_t *)nv->ids.buf)[2 * j + 1];
}

static inline Py_ssize_t nv_off(const NodeView *nv, Py_ssize_t j) {
    return nv->wide_offs ? (Py_ssize_t)((const uint32_t *)nv->offs.buf)[j]
                         : (Py_ssize_t)((const uint16_t *)nv->offs.buf)[j];
}

static void node_release(NodeView *nv) {
    if (nv->have > 0) PyBuffer_Release(&nv->ids);
    if (nv->have > 1) PyBuffer_Release(&nv->flags);
    if (nv->have > 2) PyBuffer_Release(&nv->offs);
    if (nv->have > 3) PyBuffer_Release(&nv->data);
    nv->have = 0;
    Py_CLEAR(nv->names);
}

/* node.<attr> as a buffer of unsigned items of ``itemsize`` or ``wide`` bytes (0: no
 * second size); *is_wide (if given) tells which */
static int get_buf(PyObject *node, PyObject *attr, Py_buffer *view, Py_ssize_t itemsize,
                   Py_ssize_t wide, int *is_wide) {
    PyObject *o = PyObject_GetAttr(node, attr);
    if (o == NULL)
        return -1;
    int r = PyObject_GetBuffer(o, view, PyBUF_FORMAT);
    Py_DECREF(o);
    if (r < 0)
        return -1;
    const char *f = view->format ? view->format : "B";
    int unsigned_ok = itemsize == 1 || (f[0] != 'b' && f[0] != 'h' && f[0] != 'i' &&
                                        f[0] != 'l' && f[0] != 'q' && f[0] != 'f' && f[0] != 'd');
    if ((view->itemsize != itemsize && (!wide || view->itemsize != wide)) || !unsigned_ok) {
        PyBuffer_Release(view);
        PyErr_SetString(PyExc_TypeError, "stream node array of an unexpected item size");
        return -1;
    }
    if (is_wide)
        *is_wide = view->itemsize != itemsize;
    return 0;
}

static int node_view(PyObject *node, NodeView *nv) {
    nv->have = 0;
    nv->names = NULL;
    PyObject *base = PyObject_GetAttr(node, S_base);
    if (base == NULL)
        return -1;
    nv->base = PyLong_AsUnsignedLongLong(base);
    Py_DECREF(base);
    if (nv->base == (uint64_t)-1 && PyErr_Occurred())
        return -1;
    if (get_buf(node, S_ids, &nv->ids, 4, 8, &nv->wide_ids) < 0) return -1;
    nv->have = 1;
    if (get_buf(node, S_flags, &nv->flags, 1, 0, NULL) < 0) goto fail;
    nv->have = 2;
    if (get_buf(node, S_offs, &nv->offs, 2, 4, &nv->wide_offs) < 0) goto fail;
    nv->have = 3;
    if (get_buf(node, S_data, &nv->data, 1, 0, NULL) < 0) goto fail;
    nv->have = 4;
    nv->names = PyObject_GetAttr(node, S_fields);
    if (nv->names == NULL) goto fail;
    if (!PyList_CheckExact(nv->names)) {
        PyErr_SetString(PyExc_TypeError, "stream node fields must be a list");
        goto fail;
    }
    if (nv->ids.len / (2 * nv->ids.itemsize) < nv->flags.len ||
        nv->offs.len / nv->offs.itemsize < nv->flags.len) {
        PyErr_SetString(PyExc_ValueError, "corrupt stream node arrays");
        goto fail;
    }
    return 0;
fail:
    node_release(nv);
    return -1;
}

static inline int id_lt(uint64_t ams, uint64_t aseq, uint64_t bms, uint64_t bseq) {
    return ams < bms || (ams == bms && aseq < bseq);
}

/* the RESP of entry j's fields (as encode_py(node.decode(j)) writes them) */
static int encode_entry(Buf *b, const unsigned char *d, Py_ssize_t len, Py_ssize_t pos,
                        int same, PyObject *names) {
    if (pos < 0 || pos > len) {
        PyErr_SetString(PyExc_ValueError, "corrupt stream node offsets");
        return -1;
    }
    Py_ssize_t nitems;
    if (same) {
        Py_ssize_t nf = PyList_GET_SIZE(names);
        if (buf_header(b, '*', 2 * nf) < 0)
            return -1;
        for (Py_ssize_t k = 0; k < nf; k++) {
            PyObject *name = PyList_GET_ITEM(names, k);
            if (!PyBytes_Check(name)) {
                PyErr_SetString(PyExc_TypeError, "stream field names must be bytes");
                return -1;
            }
            if (buf_bulk(b, PyBytes_AS_STRING(name), PyBytes_GET_SIZE(name)) < 0)
                return -1;
            int64_t n = read_varint(d, len, &pos);
            if (n < 0 || n > len - pos)
                goto corrupt;
            if (buf_bulk(b, (const char *)d + pos, (Py_ssize_t)n) < 0)
                return -1;
            pos += (Py_ssize_t)n;
        }
        return 0;
    }
    int64_t cnt = read_varint(d, len, &pos);
    if (cnt < 0 || cnt > len)
        goto corrupt;
    nitems = (Py_ssize_t)(2 * cnt);
    if (buf_header(b, '*', nitems) < 0)
        return -1;
    for (Py_ssize_t k = 0; k < nitems; k++) {
        int64_t n = read_varint(d, len, &pos);
        if (n < 0 || n > len - pos)
            goto corrupt;
        if (buf_bulk(b, (const char *)d + pos, (Py_ssize_t)n) < 0)
            return -1;
        pos += (Py_ssize_t)n;
    }
    return 0;
corrupt:
    PyErr_SetString(PyExc_ValueError, "corrupt stream node data");
    return -1;
}

/* The forward walk of Stream.entries, from node i (the node that may hold
 * ``start``: a bisect over the node keys, done by the caller) over the live
 * entries with start <= id <= end, at most ``count`` of them (count < 0: no
 * limit). Either appends [id, fields] to ``out`` (and their IDs as ints to
 * ``sids`` unless None), or, when ``b`` is given, writes their RESP to it. */
static Py_ssize_t walk_fwd(PyObject *nodes, Py_ssize_t i, uint64_t sms, uint64_t sseq,
                           uint64_t ems, uint64_t eseq, Py_ssize_t count, PyObject *out,
                           PyObject *sids, Buf *b) {
    int first = 1;
    uint64_t last_ms = UINT64_MAX;
    int have_last = 0;
    char prefix[24];
    int plen = 0;
    Py_ssize_t got = 0;
    for (; i < PyList_GET_SIZE(nodes); i++) {
        PyObject *node = PyList_GET_ITEM(nodes, i);
        Py_INCREF(node);
        NodeView nv;
        if (node_view(node, &nv) < 0) {
            Py_DECREF(node);
            return -1;
        }
        const unsigned char *flags = (const unsigned char *)nv.flags.buf;
        const unsigned char *data = (const unsigned char *)nv.data.buf;
        Py_ssize_t dlen = nv.data.len;
        Py_ssize_t n = nv.flags.len;
        Py_ssize_t j = 0;
        if (first) {  /* find_ge(start) */
            Py_ssize_t lo = 0, hi = n;
            while (lo < hi) {
                Py_ssize_t mid = (lo + hi) >> 1;
                if (id_lt(nv_ms(&nv, mid), nv_seq(&nv, mid), sms, sseq))
                    lo = mid + 1;
                else
                    hi = mid;
            }
            j = lo;
            first = 0;
        }
        int done = 0;
        for (; j < n; j++) {
            uint64_t ms = nv_ms(&nv, j), seq = nv_seq(&nv, j);
            if (id_lt(ems, eseq, ms, seq)) {
                done = 1;
                break;
            }
            unsigned char fl = flags[j];
            if (fl & F_DELETED)
                continue;
            if (!have_last || ms != last_ms) {
                last_ms = ms;
                have_last = 1;
                plen = fmt_u64(prefix, ms);
                prefix[plen++] = '-';
            }
            char idbuf[48];
            memcpy(idbuf, prefix, (size_t)plen);
            int idlen = plen + fmt_u64(idbuf + plen, seq);
            if (b != NULL) {
                if (buf_put(b, "*2\r\n", 4) < 0 || buf_bulk(b, idbuf, idlen) < 0 ||
                    encode_entry(b, data, dlen, nv_off(&nv, j), fl & F_SAME, nv.names) < 0)
                    goto error;
            } else {
                PyObject *fields =
                    decode_entry(data, dlen, nv_off(&nv, j), fl & F_SAME, nv.names);
                if (fields == NULL)
                    goto error;
                PyObject *sid = PyBytes_FromStringAndSize(idbuf, idlen);
                if (sid == NULL) {
                    Py_DECREF(fields);
                    goto error;
                }
                PyObject *pair = PyList_New(2);
                if (pair == NULL) {
                    Py_DECREF(sid);
                    Py_DECREF(fields);
                    goto error;
                }
                PyList_SET_ITEM(pair, 0, sid);
                PyList_SET_ITEM(pair, 1, fields);
                int r = PyList_Append(out, pair);
                Py_DECREF(pair);
                if (r < 0)
                    goto error;
                if (sids != Py_None) {
                    PyObject *x = u128(ms, seq);
                    if (x == NULL)
                        goto error;
                    r = PyList_Append(sids, x);
                    Py_DECREF(x);
                    if (r < 0)
                        goto error;
                }
            }
            if (++got == count) {
                done = 1;
                break;
            }
        }
        node_release(&nv);
        Py_DECREF(node);
        if (done)
            break;
        continue;
    error:
        node_release(&nv);
        Py_DECREF(node);
        return -1;
    }
    return got;
}

/* entries_fwd(nodes, i, start_ms, start_seq, end_ms, end_seq, count, out, sids) -> out
 *
 * Stream.entries(start, end, count, rev=False, sids) (stream.py's entries_py) from
 * node i on; ``out`` must be empty. */
static PyObject *sp_entries_fwd(PyObject *self, PyObject *args) {
    PyObject *nodes, *out, *sids;
    Py_ssize_t i, count;
    unsigned long long sms, sseq, ems, eseq;
    if (!PyArg_ParseTuple(args, "O!nKKKKnO!O:entries_fwd", &PyList_Type, &nodes, &i, &sms,
                          &sseq, &ems, &eseq, &count, &PyList_Type, &out, &sids))
        return NULL;
    if (sids != Py_None && !PyList_Check(sids)) {
        PyErr_SetString(PyExc_TypeError, "sids must be a list or None");
        return NULL;
    }
    if (PyList_GET_SIZE(out) != 0) {
        PyErr_SetString(PyExc_ValueError, "out must be empty");
        return NULL;
    }
    if (walk_fwd(nodes, i, sms, sseq, ems, eseq, count, out, sids, NULL) < 0)
        return NULL;
    Py_INCREF(out);
    return out;
}

/* entries_resp(nodes, i, start_ms, start_seq, end_ms, end_seq, count) -> bytes
 *
 * encode_py(Stream.entries(start, end, count)): the same entries as entries_fwd
 * written straight to RESP (an array of [id, [field, value, ...]]: the same
 * bytes in RESP2 and RESP3), without building the Python lists. */
static PyObject *sp_entries_resp(PyObject *self, PyObject *args) {
    PyObject *nodes;
    Py_ssize_t i, count;
    unsigned long long sms, sseq, ems, eseq;
    if (!PyArg_ParseTuple(args, "O!nKKKKn:entries_resp", &PyList_Type, &nodes, &i, &sms,
                          &sseq, &ems, &eseq, &count))
        return NULL;
    Buf b;
    buf_init(&b);
    Py_ssize_t got = walk_fwd(nodes, i, sms, sseq, ems, eseq, count, NULL, Py_None, &b);
    if (got < 0) {
        buf_free(&b);
        return NULL;
    }
    char head[24];
    int h = fmt_header(head, '*', (long long)got);
    PyObject *r = PyBytes_FromStringAndSize(NULL, h + b.len);
    if (r != NULL) {
        memcpy(PyBytes_AS_STRING(r), head, (size_t)h);
        memcpy(PyBytes_AS_STRING(r) + h, b.buf, (size_t)b.len);
    }
    buf_free(&b);
    return r;
}

/* ------------------------------------------------------------------------ */
/* node_from_listpack: a Redis stream listpack as our node's arrays           */

typedef struct {
    int is_int;
    int64_t v;              /* the integer */
    const unsigned char *s; /* or the string */
    Py_ssize_t n;
} LpEl;

/* A string element of ``ln`` bytes at ``a``: a slice, so cut at the end of the buffer
 * (the length checks come after, as in the Python twin). */
static void el_str(LpEl *e, const unsigned char *lp, Py_ssize_t a, Py_ssize_t ln,
                   Py_ssize_t n_all) {
    Py_ssize_t z = a + ln;
    if (a > n_all) a = n_all;
    if (z > n_all) z = n_all;
    e->is_int = 0;
    e->s = lp + a;
    e->n = z - a;
}

/* rdbprim.listpack_values: every element, or NULL and *err set */
static LpEl *lp_elements(const unsigned char *lp, Py_ssize_t n_all, Py_ssize_t *count,
                         const char **err) {
    if (n_all < 7) {
        *err = "short listpack";
        return NULL;
    }
    uint32_t total = (uint32_t)lp[0] | ((uint32_t)lp[1] << 8) | ((uint32_t)lp[2] << 16) |
                     ((uint32_t)lp[3] << 24);
    if ((Py_ssize_t)total != n_all || lp[n_all - 1] != 0xFF) {
        *err = "bad listpack header";
        return NULL;
    }
    Py_ssize_t cap = 64, len = 0;
    LpEl *el = PyMem_Malloc(sizeof(LpEl) * (size_t)cap);
    if (el == NULL) {
        PyErr_NoMemory();
        return NULL;
    }
    Py_ssize_t i = 6, end = (Py_ssize_t)total - 1;
#define NEED(k) do { if (i + (k) >= n_all) goto past_end; } while (0)
    while (i < end) {
        if (len == cap) {
            cap *= 2;
            LpEl *ne = PyMem_Realloc(el, sizeof(LpEl) * (size_t)cap);
            if (ne == NULL) {
                PyMem_Free(el);
                PyErr_NoMemory();
                return NULL;
            }
            el = ne;
        }
        LpEl *e = &el[len];
        unsigned b = lp[i];
        if (b < 0x80) {
            e->is_int = 1;
            e->v = b;
            len++;
            i += 2;
            continue;
        }
        if (b < 0xC0) {
            Py_ssize_t j = i + 1 + (b & 0x3F);
            e->is_int = 0;
            e->s = lp + i + 1;
            e->n = (j <= n_all ? j : n_all) - (i + 1);  /* a slice: cut at the end */
            len++;
            i = j + 1;
            continue;
        }
        if (b < 0xE0) {
            NEED(1);
            int64_t v = ((int64_t)(b & 0x1F) << 8) | lp[i + 1];
            e->is_int = 1;
            e->v = v >= (1 << 12) ? v - (1 << 13) : v;
            len++;
            i += 3;
            continue;
        }
        Py_ssize_t start = i;
        if (b < 0xF0) {
            NEED(1);
            Py_ssize_t ln = ((Py_ssize_t)(b & 0x0F) << 8) | lp[i + 1];
            el_str(e, lp, i + 2, ln, n_all);
            i += 2 + ln;
        } else if (b == 0xF0) {
            NEED(4);
            Py_ssize_t ln = (Py_ssize_t)((uint32_t)lp[i + 1] | ((uint32_t)lp[i + 2] << 8) |
                                         ((uint32_t)lp[i + 3] << 16) | ((uint32_t)lp[i + 4] << 24));
            el_str(e, lp, i + 5, ln, n_all);
            i += 5 + ln;
        } else if (b == 0xF1) {
            NEED(2);
            e->is_int = 1;
            e->v = (int16_t)((uint16_t)lp[i + 1] | ((uint16_t)lp[i + 2] << 8));
            i += 3;
        } else if (b == 0xF2) {
            /* lp[i+1:i+4] as a signed int: a slice, so it may be short near the end */
            Py_ssize_t a = i + 1, z = i + 4;
            if (a > n_all) a = n_all;
            if (z > n_all) z = n_all;
            uint32_t u = 0;
            int nb = (int)(z - a);
            for (int k = 0; k < nb; k++)
                u |= (uint32_t)lp[a + k] << (8 * k);
            int64_t v = u;
            if (nb > 0 && (u >> (8 * nb - 1)) & 1)
                v -= (int64_t)1 << (8 * nb);
            e->is_int = 1;
            e->v = v;
            i += 4;
        } else if (b == 0xF3) {
            NEED(4);
            e->is_int = 1;
            e->v = (int32_t)((uint32_t)lp[i + 1] | ((uint32_t)lp[i + 2] << 8) |
                             ((uint32_t)lp[i + 3] << 16) | ((uint32_t)lp[i + 4] << 24));
            i += 5;
        } else if (b == 0xF4) {
            NEED(8);
            uint64_t u = 0;
            for (int k = 0; k < 8; k++)
                u |= (uint64_t)lp[i + 1 + k] << (8 * k);
            e->is_int = 1;
            e->v = (int64_t)u;
            i += 9;
        } else {
            PyMem_Free(el);
            *err = "bad listpack entry";
            return NULL;
        }
        len++;
        Py_ssize_t size = i - start;
        i += size < 128 ? 1 : size < 16384 ? 2 : size < 2097152 ? 3 : size < 268435456 ? 4 : 5;
    }
#undef NEED
    if (i != end)
        goto past_end;
    *count = len;
    return el;
past_end:
    PyMem_Free(el);
    *err = "listpack entry past the end";
    return NULL;
}

static PyObject *el_bytes(const LpEl *e) {
    if (e->is_int) {
        /* not PyBytes_FromFormat: Python 3.11's knows no %lld (it copies it as text) */
        char tmp[24];
        int n = snprintf(tmp, sizeof tmp, "%lld", (long long)e->v);
        return PyBytes_FromStringAndSize(tmp, n);
    }
    return PyBytes_FromStringAndSize((const char *)e->s, e->n);
}

static int put_varint(Buf *b, uint64_t n) {
    if (buf_reserve(b, 10) < 0)
        return -1;
    while (n >= 128) {
        b->buf[b->len++] = (char)((n & 127) | 128);
        n >>= 7;
    }
    b->buf[b->len++] = (char)n;
    return 0;
}

static int put_el(Buf *b, const LpEl *e) {
    char tmp[24];
    const char *s;
    Py_ssize_t n;
    if (e->is_int) {
        if (e->v < 0) {
            tmp[0] = '-';
            n = 1 + fmt_u64(tmp + 1, (uint64_t)0 - (uint64_t)e->v);
        } else {
            n = fmt_u64(tmp, (uint64_t)e->v);
        }
        s = tmp;
    } else {
        s = (const char *)e->s;
        n = e->n;
    }
    if (put_varint(b, (uint64_t)n) < 0)
        return -1;
    return buf_put(b, s, n);
}

/* node_from_listpack(lp, master_ms, master_seq)
 *   -> (live, dead, fields, base, ids_typecode, ids, flags, offs_typecode, offs, data)
 *      | error text
 *
 * rdbstream._node_from_listpack_py's checks and results, in its order: the
 * arrays come back as bytes in the node's layout (stream.py's _Node: base, the
 * first entry's ms; ids (ms - base, seq) as native uint32 pairs ('I') or uint64
 * ('Q') when one does not fit; offs native uint16 ('H') or uint32 ('I')). */
static PyObject *sp_node_from_listpack(PyObject *self, PyObject *args) {
    Py_buffer view;
    unsigned long long mms, mseq;
    if (!PyArg_ParseTuple(args, "y*KK:node_from_listpack", &view, &mms, &mseq))
        return NULL;
    const char *err = NULL;
    Py_ssize_t n_el = 0;
    LpEl *el = lp_elements((const unsigned char *)view.buf, view.len, &n_el, &err);
    PyObject *fields = NULL, *result = NULL;
    Buf ids, flags, offs, data;
    buf_init(&ids);
    buf_init(&flags);
    buf_init(&offs);
    buf_init(&data);
    if (el == NULL)
        goto done;
#define PAST_END do { err = "stream listpack entry past the end"; goto done; } while (0)
    if (n_el < 3)
        PAST_END;
    int64_t live = el[0].v, dead = el[1].v, nf = el[2].v;
    if (!el[0].is_int || !el[1].is_int || !el[2].is_int || nf < 0) {
        err = "bad stream listpack master entry";
        goto done;
    }
    Py_ssize_t have = n_el - 3 < nf ? n_el - 3 : (Py_ssize_t)nf;
    fields = PyList_New(have);
    if (fields == NULL)
        goto done;
    for (Py_ssize_t k = 0; k < have; k++) {
        PyObject *x = el_bytes(&el[3 + k]);
        if (x == NULL)
            goto done;
        PyList_SET_ITEM(fields, k, x);
    }
    if (nf >= n_el - 3)  /* el[3 + nf] */
        PAST_END;
    if (!el[3 + nf].is_int || el[3 + nf].v != 0) {
        err = "bad stream listpack master entry";
        goto done;
    }
    Py_ssize_t i = (Py_ssize_t)(4 + nf);
    int64_t same_count = nf + 3;
    uint64_t last_ms = 0, last_seq = 0, base = 0;
    int have_last = 0, wide_ids = 0;
    Py_ssize_t cnt = 0, ndead = 0;
    while (i < n_el) {
        if (i + 2 >= n_el)
            PAST_END;
        const LpEl *fl = &el[i], *dms = &el[i + 1], *dseq = &el[i + 2];
        if (!dms->is_int || !dseq->is_int || !fl->is_int || (fl->v & ~(int64_t)(F_DELETED | F_SAME))) {
            err = "bad stream entry header";
            goto done;
        }
        i += 3;
        uint64_t ms = (uint64_t)mms + (uint64_t)dms->v, seq = (uint64_t)mseq + (uint64_t)dseq->v;
        if (have_last && (ms < last_ms || (ms == last_ms && seq <= last_seq))) {
            err = "stream IDs out of order inside a listpack";
            goto done;
        }
        if (!have_last)
            base = ms;
        have_last = 1;
        last_ms = ms;
        last_seq = seq;
        uint64_t pair[2] = {ms - base, seq};
        if (pair[0] > UINT32_MAX || seq > UINT32_MAX)
            wide_ids = 1;
        if (buf_put(&ids, (const char *)pair, 16) < 0)
            goto done;
        char f = (char)fl->v;
        if (buf_put(&flags, &f, 1) < 0)
            goto done;
        cnt++;
        if (fl->v & F_DELETED)
            ndead++;
        if (data.len > (Py_ssize_t)UINT32_MAX) {
            PyErr_SetString(PyExc_OverflowError, "stream node data past 4 GB");
            goto done;
        }
        uint32_t off = (uint32_t)data.len;
        if (buf_put(&offs, (const char *)&off, 4) < 0)
            goto done;
        int64_t k, want;
        if (fl->v & F_SAME) {
            k = nf;
            want = same_count;
        } else {
            if (i >= n_el)
                PAST_END;
            if (!el[i].is_int || el[i].v <= 0) {
                err = "bad stream entry field count";
                goto done;
            }
            k = el[i].v;
            i++;
            if (k > n_el) {  /* (and 2 * k cannot overflow) */
                err = "bad stream entry element count";
                goto done;
            }
            if (put_varint(&data, (uint64_t)k) < 0)
                goto done;
            want = 2 * k + 4;
            k *= 2;
        }
        if (k > n_el - i) {  /* the values run past the elements */
            err = "bad stream entry element count";
            goto done;
        }
        for (int64_t q = 0; q < k; q++)
            if (put_el(&data, &el[i + q]) < 0)
                goto done;
        i += (Py_ssize_t)k;
        if (i >= n_el || !el[i].is_int || el[i].v != want) {
            err = "bad stream entry element count";
            goto done;
        }
        i++;
    }
#undef PAST_END
    /* live + dead != cnt, without overflow: dead == ndead is checked first */
    if (!cnt || ndead != dead || live != cnt - ndead || !live) {
        err = "stream listpack counters do not match its entries";
        goto done;
    }
    /* the node's widths (stream.py's compact_ids / compact_offs): narrowed in place */
    int wide_offs = ((const uint32_t *)offs.buf)[cnt - 1] > 0xFFFF;
    if (!wide_ids) {
        for (Py_ssize_t q = 0; q < 2 * cnt; q++)
            ((uint32_t *)ids.buf)[q] = (uint32_t)((const uint64_t *)ids.buf)[q];
        ids.len = 8 * cnt;
    }
    if (!wide_offs) {
        for (Py_ssize_t q = 0; q < cnt; q++)
            ((uint16_t *)offs.buf)[q] = (uint16_t)((const uint32_t *)offs.buf)[q];
        offs.len = 2 * cnt;
    }
    result = Py_BuildValue("(LLOKCy#y#Cy#y#)", (long long)live, (long long)dead, fields,
                           (unsigned long long)base, wide_ids ? 'Q' : 'I', ids.buf, ids.len,
                           flags.buf, flags.len, wide_offs ? 'I' : 'H', offs.buf, offs.len,
                           data.buf, data.len);
done:
    if (result == NULL && err != NULL && !PyErr_Occurred())
        result = PyUnicode_FromString(err);
    Py_XDECREF(fields);
    PyMem_Free(el);
    buf_free(&ids);
    buf_free(&flags);
    buf_free(&offs);
    buf_free(&data);
    PyBuffer_Release(&view);
    return result;
}

/* ------------------------------------------------------------------------ */
/* convert: reply values to what redis-py gets (embedded/convert.py), raw bytes */

static PyTypeObject *CT_SimpleString, *CT_Verbatim;
static PyObject *C_NULL_ARRAY, *c_fallback;

static PyObject *conv(PyObject *v, PyObject *proto);

static PyObject *conv_seq(PyObject *v, PyObject *proto) {
    Py_ssize_t n = PySequence_Fast_GET_SIZE(v);
    PyObject *out = PyList_New(n);
    if (out == NULL)
        return NULL;
    if (Py_EnterRecursiveCall(" while converting a reply")) {
        Py_DECREF(out);
        return NULL;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *x = PySequence_Fast_GET_ITEM(v, i);
        PyObject *y;
        PyTypeObject *t = Py_TYPE(x);
        if (t == &PyBytes_Type || t == &PyLong_Type) {
            Py_INCREF(x);
            y = x;
        } else {
            y = conv(x, proto);
        }
        if (y == NULL) {
            Py_LeaveRecursiveCall();
            Py_DECREF(out);
            return NULL;
        }
        PyList_SET_ITEM(out, i, y);
    }
    Py_LeaveRecursiveCall();
    return out;
}

static PyObject *conv(PyObject *v, PyObject *proto) {
    PyTypeObject *t = Py_TYPE(v);
    if (t == &PyBytes_Type || t == &PyLong_Type) {
        Py_INCREF(v);
        return v;
    }
    if (t == &PyList_Type || t == &PyTuple_Type) {
        /* a list may change size under a fallback call: convert a snapshot of it */
        if (t == &PyList_Type) {
            PyObject *snap = PyList_GetSlice(v, 0, PyList_GET_SIZE(v));
            if (snap == NULL)
                return NULL;
            PyObject *r = conv_seq(snap, proto);
            Py_DECREF(snap);
            return r;
        }
        return conv_seq(v, proto);
    }
    if (v == Py_None || v == C_NULL_ARRAY)
        Py_RETURN_NONE;
    if (t == CT_SimpleString || t == CT_Verbatim)
        return PyBytes_FromStringAndSize(PyBytes_AS_STRING(v), PyBytes_GET_SIZE(v));
    return PyObject_CallFunctionObjArgs(c_fallback, v, proto, Py_None, NULL);
}

/* convert(value, proto) -> embedded/convert.py's convert_py(value, proto, None) */
static PyObject *sp_convert(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != 2) {
        PyErr_SetString(PyExc_TypeError, "convert(value, proto)");
        return NULL;
    }
    if (c_fallback == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "_speedups.setup_convert() was not called");
        return NULL;
    }
    return conv(args[0], args[1]);
}

static PyObject *sp_setup_convert(PyObject *self, PyObject *args, PyObject *kw) {
    static char *names[] = {"SimpleString", "Verbatim", "NULL_ARRAY", "fallback", NULL};
    PyObject *ss, *vb, *na, *fb;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "O!O!OO:setup_convert", names, &PyType_Type, &ss,
                                     &PyType_Type, &vb, &na, &fb))
        return NULL;
    if (!PyType_IsSubtype((PyTypeObject *)ss, &PyBytes_Type) ||
        !PyType_IsSubtype((PyTypeObject *)vb, &PyBytes_Type)) {
        PyErr_SetString(PyExc_TypeError, "setup_convert: reply classes must subclass bytes");
        return NULL;
    }
    Py_INCREF(ss); Py_INCREF(vb); Py_INCREF(na); Py_INCREF(fb);
    Py_XDECREF(CT_SimpleString); Py_XDECREF(CT_Verbatim); Py_XDECREF(C_NULL_ARRAY);
    Py_XDECREF(c_fallback);
    CT_SimpleString = (PyTypeObject *)ss;
    CT_Verbatim = (PyTypeObject *)vb;
    C_NULL_ARRAY = na;
    c_fallback = fb;
    Py_RETURN_NONE;
}

/* ------------------------------------------------------------------------ */

static PyMethodDef methods[] = {
    {"encode", (PyCFunction)(void (*)(void))sp_encode, METH_FASTCALL,
     "encode(value, proto=2) -> bytes: a reply value as RESP (protocol/resp.py's encode_py)"},
    {"setup", (PyCFunction)(void (*)(void))sp_setup, METH_VARARGS | METH_KEYWORDS,
     "setup(SimpleString=, ErrorReply=, RespSet=, Push=, MultiReply=, RawResp=, NULL_ARRAY=, "
     "fallback=)"},
    {"entries_fwd", sp_entries_fwd, METH_VARARGS,
     "entries_fwd(nodes, i, start_ms, start_seq, end_ms, end_seq, count, out, sids) -> out"},
    {"node_from_listpack", sp_node_from_listpack, METH_VARARGS,
     "node_from_listpack(lp, master_ms, master_seq) -> (live, dead, fields, base, ids_typecode, "
     "ids, flags, offs_typecode, offs, data) | error text"},
    {"convert", (PyCFunction)(void (*)(void))sp_convert, METH_FASTCALL,
     "convert(value, proto) -> embedded/convert.py's convert_py(value, proto, None)"},
    {"setup_convert", (PyCFunction)(void (*)(void))sp_setup_convert, METH_VARARGS | METH_KEYWORDS,
     "setup_convert(SimpleString=, Verbatim=, NULL_ARRAY=, fallback=)"},
    {"fast_run", (PyCFunction)(void (*)(void))fp_fast_run, METH_FASTCALL,
     "Run a read's pipelined PING/ECHO/XADD in C (see _fastpath.c and server/fastpath.py)."},
    {"fast_xadd", (PyCFunction)(void (*)(void))fp_fast_xadd, METH_FASTCALL,
     "One XADD from its argv in C, or None for Python's path (see engine/fastpath.py)."},
    {"parse_ids", (PyCFunction)(void (*)(void))fp_parse_ids, METH_FASTCALL,
     "parse_ids(fallback, items) -> [int]: engine/stream/ids.py's parse_ids_py."},
    {"setup_fastpath", fp_setup, METH_VARARGS,
     "setup_fastpath(Stream, _Node): the stream classes fast_run appends to."},
    {"read_guard", rp_guard, METH_O,
     "read_guard(conn) -> bool: the compiled twin of server/fastpath.py's usable."},
    {"fastpath_served", rp_served, METH_NOARGS,
     "fastpath_served() -> (commands fast_run's loop answered, those of them ReadPaths ran)."},
    {"setup_readpath", rp_setup, METH_VARARGS,
     "setup_readpath(received, resume, fastpath_globals, fast_run, SystemClock, kinds, "
     "reply_buf)"},
    {"entries_resp", sp_entries_resp, METH_VARARGS,
     "entries_resp(nodes, i, start_ms, start_seq, end_ms, end_seq, count) -> RESP bytes"},
    {"stream_nodes", (PyCFunction)(void (*)(void))lp_stream_nodes, METH_FASTCALL,
     "stream_nodes(buf, pos, end, nnodes, _Node, same_size, FormatError) -> (nodes, keys, "
     "live_total, prev_last, pos): engine/serialize.py's stream_nodes_py (_loadpath.c)"},
    {"prefault_heap", lp_prefault_heap, METH_O,
     "prefault_heap(nbytes): fault in, without the GIL, this thread's heap for a load of "
     "about nbytes (_loadpath.c; a no-op without glibc)"},
    {"trim_heap", lp_trim_heap, METH_NOARGS,
     "trim_heap(): give the heap's unused pages back (malloc_trim; a no-op without glibc)"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_speedups",
    "Compiled twins of streamlite's pure-Python hot paths (see streamlite.accel).", -1, methods,
    NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit__speedups(void) {
    S_ids = PyUnicode_InternFromString("ids");
    S_flags = PyUnicode_InternFromString("flags");
    S_offs = PyUnicode_InternFromString("offs");
    S_data = PyUnicode_InternFromString("data");
    S_fields = PyUnicode_InternFromString("fields");
    S_base = PyUnicode_InternFromString("base");
    if (!S_ids || !S_flags || !S_offs || !S_data || !S_fields || !S_base)
        return NULL;
    PyObject *m = PyModule_Create(&module);
    /* the interface version streamlite/accel.py expects: bump it with any change of a
     * function's signature or of setup()'s arguments, so a stale build is not used */
    if (m != NULL && (PyModule_AddIntConstant(m, "API", 8) < 0 || rp_add_types(m) < 0)) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
