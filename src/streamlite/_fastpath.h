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

PyObject *fp_fast_run(PyObject *self, PyObject *const *args, Py_ssize_t nargs);
PyObject *fp_fast_xadd(PyObject *self, PyObject *const *args, Py_ssize_t nargs);
PyObject *fp_parse_ids(PyObject *self, PyObject *const *args, Py_ssize_t nargs);
PyObject *fp_setup(PyObject *self, PyObject *args);

#endif
