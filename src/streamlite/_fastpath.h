/* The compiled dispatch of pipelined commands (_fastpath.c), part of _speedups. */
#ifndef STREAMLITE_FASTPATH_H
#define STREAMLITE_FASTPATH_H
#include <Python.h>

PyObject *fp_fast_run(PyObject *self, PyObject *const *args, Py_ssize_t nargs);
PyObject *fp_fast_xadd(PyObject *self, PyObject *const *args, Py_ssize_t nargs);
PyObject *fp_parse_ids(PyObject *self, PyObject *const *args, Py_ssize_t nargs);
PyObject *fp_setup(PyObject *self, PyObject *args);

#endif
