/* The node loop of loading a stream of our own format (part of _speedups).
 *
 *   stream_nodes(buf, pos, end, nnodes, _Node, same_size, FormatError)
 *       -> (nodes, keys, live_total, prev_last, pos)
 *
 * The compiled twin of engine/serialize.py's stream_nodes_py (the node loop of
 * _dec_stream: AOF bases, snapshots, our RESTORE payloads): every node read, checked
 * and built as a _Node, with the same outcome and the same exceptions.
 *
 * It runs in three steps, so that the bulk of a big load runs without the GIL:
 *   1. with the GIL: walk the nodes' framing, do the checks that need no scan of the
 *      arrays, and create every object at its final size (arrays, flags, data:
 *      storage written later), the _Node objects and the keys;
 *   2. without the GIL (big loads only): copy and narrow the IDs and offsets, copy the
 *      flags (counting tombstones) and the data into those objects, which only this
 *      call references yet; the IDs' and offsets' order checks are made here;
 *   3. with the GIL: a node whose IDs did not fit 32 bits gets an array('Q').
 * When any check fails, everything built is dropped and a checking pass (no objects)
 * walks the nodes one after the other, as the Python loop does, and raises the first
 * error the Python loop raises: damaged input costs a second pass, good input none.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>
#if defined(__GLIBC__) && defined(__linux__)
#include <malloc.h>
#include <unistd.h>
#define PREFAULT 1
#endif

#include "_fastpath.h"

#define SLOT(obj, off) (*(PyObject **)((char *)(obj) + (off)))
#define F_DELETED 1 /* stream.py's F_DELETED; a tombstone's flags are 1 or 1|2 */
#define MIN_NODE 36 /* bytes of the smallest node: five u32 counts and the 16-byte header */
#define NOGIL_BYTES (1 << 20) /* smaller loads keep the GIL (releasing it costs a switch) */

static inline uint32_t rd_u32(const unsigned char *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline uint64_t rd_u64(const unsigned char *p) {
    return (uint64_t)rd_u32(p) | (uint64_t)rd_u32(p + 4) << 32;
}

/* where a node's parts are in the source */
typedef struct {
    Py_ssize_t fields_at; /* the first field's bytes (their lengths just before) */
    uint32_t nf, live, dead;
    uint64_t body;
    Py_ssize_t ids_at, nids, flags_at, cnt, offs_at, noffs, data_at, dlen, next;
} Frame;

/* a node being built: where its parts go, and what step 2 found */
typedef struct {
    const unsigned char *ids, *offs, *flags, *data; /* in the source */
    Py_ssize_t cnt, dlen;
    uint64_t base;
    uint32_t dead;
    PyObject *node; /* borrowed from the nodes list */
    void *ids_out, *offs_out;
    char *flags_out, *data_out;
    int offs_wide, ids_wide, bad;
} Job;

static PyObject *array_type, *zero_I, *zero_H, *zero_Q;

/* the cached 1-item zero arrays repeated to ``n`` items: the array is allocated at its
 * size in one step (no temporary, no method call), its items written later */
static int setup_arrays(void) {
    if (zero_Q != NULL)
        return 0;
    PyObject *mod = PyImport_ImportModule("array");
    if (mod == NULL)
        return -1;
    Py_XSETREF(array_type, PyObject_GetAttrString(mod, "array"));
    Py_DECREF(mod);
    if (array_type == NULL)
        return -1;
    PyObject **slots[3] = {&zero_I, &zero_H, &zero_Q};
    const char *codes[3] = {"I", "H", "Q"};
    for (int i = 0; i < 3; i++) {
        PyObject *a = PyObject_CallFunction(array_type, "s[i]", codes[i], 0);
        if (a == NULL)
            return -1;
        Py_XSETREF(*slots[i], a);
    }
    return 0;
}

static PyObject *new_array(PyObject *zero, Py_ssize_t n, void **items) {
    PyObject *a = PySequence_Repeat(zero, n);
    if (a == NULL)
        return NULL;
    /* an array refers to no object (but its type): no cycle can go through it, and the
     * collector need not walk a big stream's 20,000 arrays at every full collection */
    PyObject_GC_UnTrack(a);
    Py_buffer v;
    if (PyObject_GetBuffer(a, &v, PyBUF_WRITABLE) < 0) {
        Py_DECREF(a);
        return NULL;
    }
    *items = v.buf; /* stays valid: nothing resizes the array while this call owns it */
    PyBuffer_Release(&v);
    return a;
}

/* the IDs (``n`` u64 of absolute (ms, seq) pairs at ``p``) less ``base`` on the ms, as
 * u32 at ``out`` (when not NULL): the OR of all the values (above 32 bits: the node needs
 * array('Q')), or -1 when an ms is below ``base`` (compact_ids' OverflowError) */
static int ids_scan(const unsigned char *p, Py_ssize_t n, uint64_t base, uint32_t *out,
                    uint64_t *top) {
    uint64_t t = 0;
    for (Py_ssize_t q = 0; q < n; q++) {
        uint64_t v = rd_u64(p + 8 * q);
        if (!(q & 1)) {
            if (v < base)
                return -1;
            v -= base;
        }
        t |= v;
        if (out != NULL)
            out[q] = (uint32_t)v;
    }
    *top = t;
    return 0;
}

/* the offsets (``n`` u32 at ``p``) narrowed to u16 at ``out`` (when not NULL) when
 * ``wide`` is 0 (else copied as u32): -1 when the last fits 16 bits and another does not
 * (compact_offs' OverflowError) */
static int offs_scan(const unsigned char *p, Py_ssize_t n, int wide, void *out) {
    uint32_t t = 0;
    for (Py_ssize_t q = 0; q < n; q++) {
        uint32_t v = rd_u32(p + 4 * q);
        t |= v;
        if (out != NULL) {
            if (wide)
                ((uint32_t *)out)[q] = v;
            else
                ((uint16_t *)out)[q] = (uint16_t)v;
        }
    }
    return !wide && t > 0xFFFFu ? -1 : 0;
}

static Py_ssize_t tombstones(const unsigned char *p, Py_ssize_t n) {
    Py_ssize_t c = 0;
    for (Py_ssize_t q = 0; q < n; q++)
        c += p[q] == F_DELETED || p[q] == (F_DELETED | 2);
    return c;
}

static int past(void) {
    PyErr_SetString(PyExc_ValueError, "stream node past the end of the value");
    return -1;
}

static int bad_items(void) { /* as array.frombytes */
    PyErr_SetString(PyExc_ValueError, "bytes length not a multiple of item size");
    return -1;
}

/* The node at ``pos`` (up to ``end``) located in *f, with serialize.stream_node_py's
 * errors in its order; ``check`` also makes its order checks of the IDs and offsets
 * (which the fast pass leaves to step 2). -1 with an exception set. */
static int frame(const unsigned char *b, Py_ssize_t pos, Py_ssize_t end, Frame *f, int check,
                 PyObject *format_error) {
#define NEED(n) do { if (pos < 0 || (Py_ssize_t)(n) > end - pos) return past(); } while (0)
    NEED(4);
    f->nf = rd_u32(b + pos);
    pos += 4;
    NEED((Py_ssize_t)f->nf * 4);
    Py_ssize_t lens_at = pos;
    pos += (Py_ssize_t)f->nf * 4;
    f->fields_at = pos;
    for (uint32_t k = 0; k < f->nf; k++) {
        uint32_t ln = rd_u32(b + lens_at + 4 * (Py_ssize_t)k);
        NEED((Py_ssize_t)ln);
        pos += ln;
    }
    NEED(20);
    f->live = rd_u32(b + pos);
    f->dead = rd_u32(b + pos + 4);
    f->body = rd_u64(b + pos + 8);
    uint32_t idlen = rd_u32(b + pos + 16);
    pos += 20;
    NEED((Py_ssize_t)idlen);
    if (idlen % 8)
        return bad_items();
    f->ids_at = pos;
    f->nids = idlen / 8;
    uint64_t top;
    if (check && f->nids && ids_scan(b + pos, f->nids, rd_u64(b + pos), NULL, &top) < 0)
        goto order;
    pos += idlen;
    NEED(4);
    uint32_t flen = rd_u32(b + pos);
    NEED(4 + (Py_ssize_t)flen);
    f->flags_at = pos + 4;
    f->cnt = flen;
    pos += 4 + (Py_ssize_t)flen;
    NEED(4);
    uint32_t olen = rd_u32(b + pos);
    NEED(4 + (Py_ssize_t)olen);
    if (olen % 4)
        return bad_items();
    f->offs_at = pos + 4;
    f->noffs = olen / 4;
    if (check && f->noffs &&
        offs_scan(b + f->offs_at, f->noffs, rd_u32(b + f->offs_at + olen - 4) > 0xFFFFu,
                  NULL) < 0)
        goto order;
    pos += 4 + (Py_ssize_t)olen;
    NEED(4);
    uint32_t dlen = rd_u32(b + pos);
    NEED(4 + (Py_ssize_t)dlen);
    f->data_at = pos + 4;
    f->dlen = dlen;
    f->next = pos + 4 + (Py_ssize_t)dlen;
    return 0;
#undef NEED
order:
    PyErr_SetString(format_error, "stream IDs or offsets out of order");
    return -1;
}

/* _dec_stream's checks of a read node that need no scan of its arrays: 0 when they hold */
static int consistent(const unsigned char *b, const Frame *f) {
    Py_ssize_t cnt = f->cnt;
    if (!cnt || f->nids != 2 * cnt || f->noffs != cnt || (Py_ssize_t)f->live + f->dead != cnt)
        return -1;
    uint32_t last = rd_u32(b + f->offs_at + 4 * (cnt - 1));
    return last >= (f->dlen > 1 ? (uint64_t)f->dlen : 1) || rd_u32(b + f->offs_at) != 0 ? -1 : 0;
}

/* the first ID of a node against the last of the one before: 0 when in order */
static int in_order(const unsigned char *b, const Frame *f, int have_prev, uint64_t *prev) {
    uint64_t ms = rd_u64(b + f->ids_at), seq = rd_u64(b + f->ids_at + 8);
    if (have_prev && (ms < prev[0] || (ms == prev[0] && seq <= prev[1])))
        return -1;
    prev[0] = rd_u64(b + f->ids_at + 16 * (f->cnt - 1));
    prev[1] = rd_u64(b + f->ids_at + 16 * (f->cnt - 1) + 8);
    return 0;
}

/* The checking pass, after the fast one met an error: the nodes one after the other with
 * every check at the point the Python loop makes it; raises the first error. */
static void raise_first_error(const unsigned char *b, Py_ssize_t pos, Py_ssize_t end,
                              Py_ssize_t nnodes, PyObject *format_error) {
    Frame f;
    uint64_t prev[2];
    for (Py_ssize_t i = 0; i < nnodes; i++) {
        if (frame(b, pos, end, &f, 1, format_error) < 0)
            return;
        if (consistent(b, &f) < 0 || tombstones(b + f.flags_at, f.cnt) != f.dead) {
            PyErr_SetString(format_error, "inconsistent stream node");
            return;
        }
        if (in_order(b, &f, i > 0, prev) < 0) {
            PyErr_SetString(format_error, "stream nodes out of order");
            return;
        }
        pos = f.next;
    }
    PyErr_SetString(PyExc_SystemError, "stream_nodes: an error the checking pass did not find");
}

/* the field names of node ``f``: ``prev`` (the previous node's list) when equal */
static PyObject *node_fields(const unsigned char *b, const Frame *f, PyObject *prev) {
    const unsigned char *lens = b + f->fields_at - 4 * (Py_ssize_t)f->nf;
    if (prev != NULL && PyList_GET_SIZE(prev) == f->nf) {
        Py_ssize_t at = f->fields_at;
        uint32_t k = 0;
        for (; k < f->nf; k++) {
            PyObject *x = PyList_GET_ITEM(prev, k);
            uint32_t ln = rd_u32(lens + 4 * k);
            if (!PyBytes_CheckExact(x) || PyBytes_GET_SIZE(x) != ln ||
                memcmp(PyBytes_AS_STRING(x), b + at, ln) != 0)
                break;
            at += ln;
        }
        if (k == f->nf)
            return Py_NewRef(prev);
    }
    PyObject *out = PyList_New(f->nf);
    if (out == NULL)
        return NULL;
    Py_ssize_t at = f->fields_at;
    for (uint32_t k = 0; k < f->nf; k++) {
        uint32_t ln = rd_u32(lens + 4 * k);
        PyObject *x = PyBytes_FromStringAndSize((const char *)b + at, ln);
        if (x == NULL) {
            Py_DECREF(out);
            return NULL;
        }
        PyList_SET_ITEM(out, k, x);
        at += ln;
    }
    return out;
}

static Py_ssize_t o_ids, o_flags, o_offs, o_data, o_fields, o_live, o_dead, o_body, o_same,
    o_base;

static int node_slots(PyTypeObject *t) {
    return slot_offset(t, "ids", &o_ids) || slot_offset(t, "flags", &o_flags) ||
           slot_offset(t, "offs", &o_offs) || slot_offset(t, "data", &o_data) ||
           slot_offset(t, "fields", &o_fields) || slot_offset(t, "live", &o_live) ||
           slot_offset(t, "dead", &o_dead) || slot_offset(t, "body", &o_body) ||
           slot_offset(t, "same_size", &o_same) || slot_offset(t, "base", &o_base)
               ? -1
               : 0;
}

/* step 1 for one node: its objects at their final sizes, set on a new _Node */
static PyObject *build(PyTypeObject *t, const unsigned char *b, const Frame *f,
                       PyObject *prev_node, PyObject *same_size, Job *j) {
    PyObject *prev_fields = prev_node ? SLOT(prev_node, o_fields) : NULL;
    PyObject *fields = node_fields(b, f, prev_fields);
    if (fields == NULL)
        return NULL;
    PyObject *same = fields == prev_fields ? Py_NewRef(SLOT(prev_node, o_same))
                                           : PyObject_CallFunction(same_size, "I", f->nf);
    Py_ssize_t cnt = f->cnt;
    j->cnt = cnt;
    j->dlen = f->dlen;
    j->dead = f->dead;
    j->base = rd_u64(b + f->ids_at);
    j->ids = b + f->ids_at;
    j->offs = b + f->offs_at;
    j->flags = b + f->flags_at;
    j->data = b + f->data_at;
    j->offs_wide = rd_u32(j->offs + 4 * (cnt - 1)) > 0xFFFFu;
    j->ids_wide = j->bad = 0;
    PyObject *ids = new_array(zero_I, 2 * cnt, &j->ids_out);
    PyObject *offs = ids ? new_array(j->offs_wide ? zero_I : zero_H, cnt, &j->offs_out) : NULL;
    PyObject *flags = offs ? PyByteArray_FromStringAndSize(NULL, cnt) : NULL;
    PyObject *data = flags ? PyBytes_FromStringAndSize(NULL, f->dlen) : NULL;
    PyObject *live = PyLong_FromUnsignedLong(f->live), *dead = PyLong_FromUnsignedLong(f->dead);
    PyObject *body = PyLong_FromUnsignedLongLong(f->body);
    PyObject *base = PyLong_FromUnsignedLongLong(j->base);
    PyObject *n = t->tp_alloc(t, 0);
    PyObject *parts[10] = {fields, same, ids, offs, flags, data, live, dead, body, base};
    if (same == NULL || data == NULL || !live || !dead || !body || !base || n == NULL) {
        for (int k = 0; k < 10; k++)
            Py_XDECREF(parts[k]);
        Py_XDECREF(n);
        return NULL;
    }
    j->flags_out = PyByteArray_AS_STRING(flags);
    j->data_out = PyBytes_AS_STRING(data);
    Py_ssize_t offsets[10] = {o_fields, o_same, o_ids, o_offs, o_flags,
                              o_data,   o_live, o_dead, o_body, o_base};
    for (int k = 0; k < 10; k++)
        SLOT(n, offsets[k]) = parts[k];
    /* a node refers to its field list, arrays, bytes and ints, none of which refers
     * back: the collector need not walk a big stream's nodes either */
    PyObject_GC_UnTrack(n);
    j->node = n;
    return n;
}

/* step 2 for one node: its arrays, flags and data written (no Python API) */
static void fill(Job *j) {
    uint64_t top;
    if (ids_scan(j->ids, 2 * j->cnt, j->base, (uint32_t *)j->ids_out, &top) < 0)
        j->bad = 1;
    else if (top > 0xFFFFFFFFu)
        j->ids_wide = 1;
    if (offs_scan(j->offs, j->cnt, j->offs_wide, j->offs_out) < 0)
        j->bad = 1;
    memcpy(j->flags_out, j->flags, (size_t)j->cnt);
    if (tombstones(j->flags, j->cnt) != j->dead)
        j->bad = 1;
    memcpy(j->data_out, j->data, (size_t)j->dlen);
}

/* step 3 for a node whose IDs need 64 bits: array('Q') */
static int widen(Job *j) {
    void *items;
    PyObject *a = new_array(zero_Q, 2 * j->cnt, &items);
    if (a == NULL)
        return -1;
    uint64_t *out = items;
    for (Py_ssize_t q = 0; q < 2 * j->cnt; q++)
        out[q] = rd_u64(j->ids + 8 * q) - (q & 1 ? 0 : j->base);
    Py_SETREF(SLOT(j->node, o_ids), a);
    return 0;
}

/* prefault_heap(nbytes) and trim_heap(): the server's load thread (server/headstart.py)
 * faults in, without the GIL, the heap its load is about to take, and gives back what
 * the load left of it.
 *
 * Why: a big load makes its objects at their final size with the GIL held (step 1
 * above), and fresh memory costs a page fault per 4 KB: 8,000 for a million entries,
 * 15-20 ms here, all with the GIL held. The thread that will load starts when the
 * server does and faults that memory in meanwhile, while the main thread imports the
 * engine: then the objects are carved from pages already there.
 *
 * How (glibc on Linux; elsewhere both are no-ops): blocks of PREFAULT_PIECE bytes are
 * allocated from this thread's malloc arena, their pages touched one by one (faults
 * take only their VMA's lock; MADV_POPULATE_WRITE would hold the process's mmap lock
 * through the whole range and stall the main thread's imports, which map files), then
 * freed last first, so they merge into the arena's top, from which the objects are
 * then carved. glibc keeps a free top up to its trim threshold, and serves a block
 * from the arena when it is below its mmap threshold; both are raised first, as glibc
 * raises them by itself when a program frees a big mapped block (mallopt(3)'s dynamic
 * threshold: freeing a mapped block of s bytes, s up to 32 MB, sets the mmap threshold
 * to s and the trim threshold to 2s). No allocation is kept; at most PREFAULT_MAX
 * bytes are faulted in (a bigger load gets that much of a head start); trim_heap
 * (malloc_trim) returns what the load did not take. */
#ifdef PREFAULT
#define PREFAULT_MAX ((size_t)48 << 20)
#define PREFAULT_PIECE ((size_t)16 << 20)
#define RAISED_MMAP_THRESHOLD (((size_t)32 << 20) - ((size_t)64 << 10)) /* its mapping: <= 32 MB */

static void touch_pages(char *p, size_t n) {
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    uintptr_t a = ((uintptr_t)p + page - 1) & ~(uintptr_t)(page - 1);
    uintptr_t e = ((uintptr_t)p + n) & ~(uintptr_t)(page - 1);
    for (volatile char *q = (volatile char *)a; (uintptr_t)q < e; q += page)
        *q = 0; /* the block is ours until it is freed */
}

static void prefault(size_t want) {
    if (want > PREFAULT_MAX)
        want = PREFAULT_MAX;
    /* mapped, never touched (volatile: a compiler may drop a malloc freed unused) */
    void *volatile raise = malloc(RAISED_MMAP_THRESHOLD);
    free(raise);
    char *pieces[PREFAULT_MAX / PREFAULT_PIECE + 1];
    int k = 0;
    for (size_t got = 0; got < want && k < (int)(sizeof pieces / sizeof *pieces); k++) {
        size_t n = want - got < PREFAULT_PIECE ? want - got : PREFAULT_PIECE;
        if ((pieces[k] = malloc(n)) == NULL)
            break;
        touch_pages(pieces[k], n);
        got += n;
    }
    while (k > 0)
        free(pieces[--k]);
}
#endif

PyObject *lp_prefault_heap(PyObject *self, PyObject *arg) {
    Py_ssize_t n = PyLong_AsSsize_t(arg);
    if (n == -1 && PyErr_Occurred())
        return NULL;
#ifdef PREFAULT
    if (n > 0) {
        Py_BEGIN_ALLOW_THREADS
        prefault((size_t)n);
        Py_END_ALLOW_THREADS
    }
#endif
    Py_RETURN_NONE;
}

PyObject *lp_trim_heap(PyObject *self, PyObject *unused) {
#ifdef PREFAULT
    Py_BEGIN_ALLOW_THREADS
    malloc_trim(0);
    Py_END_ALLOW_THREADS
#endif
    Py_RETURN_NONE;
}

PyObject *lp_stream_nodes(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    Py_ssize_t pos, end, nnodes;
    if (nargs != 7 || !PyType_Check(args[4])) {
        PyErr_SetString(PyExc_TypeError,
                        "stream_nodes(buf, pos, end, nnodes, _Node, same_size, FormatError)");
        return NULL;
    }
    if ((pos = PyLong_AsSsize_t(args[1])) == -1 && PyErr_Occurred())
        return NULL;
    if ((end = PyLong_AsSsize_t(args[2])) == -1 && PyErr_Occurred())
        return NULL;
    if ((nnodes = PyLong_AsSsize_t(args[3])) == -1 && PyErr_Occurred())
        return NULL;
    PyTypeObject *t = (PyTypeObject *)args[4];
    PyObject *same_size = args[5], *format_error = args[6];
    if (setup_arrays() < 0 || node_slots(t) < 0)
        return NULL;
    Py_buffer view;
    if (PyObject_GetBuffer(args[0], &view, PyBUF_SIMPLE) < 0)
        return NULL;
    const unsigned char *b = view.buf;
    if (end > view.len)
        end = view.len;
    Py_ssize_t start = pos, room = end > pos ? (end - pos) / MIN_NODE + 1 : 1;
    PyObject *nodes = PyList_New(0), *keys = PyList_New(0), *result = NULL;
    Job *jobs = PyMem_Malloc(sizeof(Job) * (size_t)(nnodes < room ? (nnodes ? nnodes : 1) : room));
    if (nodes == NULL || keys == NULL || jobs == NULL) {
        if (jobs == NULL)
            PyErr_NoMemory();
        goto done;
    }
    uint64_t prev[2], live_total = 0;
    Py_ssize_t total = 0;
    int bad = 0;
    for (Py_ssize_t i = 0; i < nnodes && !bad; i++) {
        Frame f;
        if (frame(b, pos, end, &f, 0, format_error) < 0 || consistent(b, &f) < 0 ||
            in_order(b, &f, i > 0, prev) < 0) {
            bad = 1;
            break;
        }
        PyObject *n = build(t, b, &f, i ? PyList_GET_ITEM(nodes, i - 1) : NULL, same_size,
                            &jobs[i]);
        if (n == NULL)
            goto done;
        int err = PyList_Append(nodes, n);
        Py_DECREF(n);
        PyObject *key = err < 0 ? NULL : id_long(rd_u64(b + f.ids_at), rd_u64(b + f.ids_at + 8));
        if (key == NULL || PyList_Append(keys, key) < 0) {
            Py_XDECREF(key);
            goto done;
        }
        Py_DECREF(key);
        live_total += f.live;
        total += f.dlen + 20 * f.cnt;
        pos = f.next;
    }
    if (!bad) {
        Py_ssize_t built = PyList_GET_SIZE(nodes);
        if (total >= NOGIL_BYTES) {
            Py_BEGIN_ALLOW_THREADS
            for (Py_ssize_t i = 0; i < built; i++)
                fill(&jobs[i]);
            Py_END_ALLOW_THREADS
        } else {
            for (Py_ssize_t i = 0; i < built; i++)
                fill(&jobs[i]);
        }
        for (Py_ssize_t i = 0; i < built && !bad; i++) {
            bad = jobs[i].bad;
            if (!bad && jobs[i].ids_wide && widen(&jobs[i]) < 0)
                goto done;
        }
    }
    if (bad) {
        PyErr_Clear();
        raise_first_error(b, start, end, nnodes, format_error);
        goto done;
    }
    PyObject *last = nnodes ? id_long(prev[0], prev[1]) : PyLong_FromLong(-1);
    if (last != NULL)
        result = Py_BuildValue("(OOKNn)", nodes, keys, (unsigned long long)live_total, last, pos);
done:
    PyMem_Free(jobs);
    Py_XDECREF(nodes);
    Py_XDECREF(keys);
    PyBuffer_Release(&view);
    return result;
}
