/* The hot path of run.log() in C: runtrack.spool._scalar.Cursor.
 *
 * A Cursor holds a spool writer's position (offset, last_point) and, while a segment
 * is mapped, a buffer export of its mapping. Called as log(name, value,
 * description="", step=None) it does what SpoolWriter.scalar_logger's Python function
 * does, in the same order and with the same outcome: a float or 64-bit int point of
 * an enabled name, from the writer's thread, without a description ("" or None), at
 * an int step (or none), is written as one 40-byte FLOAT/INT record whose commit word
 * is stored last; anything else is handed, with nothing written, to the slow path
 * slow(name, value, description, step). logger.py holds the Python twin; the tests
 * run the same cases against both.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <structmember.h>
#include <pythread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#if !PY_LITTLE_ENDIAN
#error "spool records are little-endian: this build uses the Python scalar logger"
#endif

#define POINT_SIZE 40
#define HEAD_SIZE 12
#define COMMIT_WORD 0xC0FFEE01u /* record.COMMIT */

typedef struct {
    PyObject_HEAD
    vectorcallfunc vectorcall;
    Py_ssize_t offset;     /* where the next record goes */
    Py_ssize_t last_point; /* points are appended while offset <= last_point */
    Py_buffer view;        /* the mapped segment (view.obj is NULL when none) */
    unsigned long thread;  /* the writer's thread */
    PyObject *heads;       /* name -> 12 first bytes of its FLOAT record */
    PyObject *int_heads;   /* name -> 12 first bytes of its INT record */
    PyObject *slow;        /* slow(name, value, description, step) */
    PyObject *binder;      /* binder(*args, **kwargs) -> (name, value, description, step) */
} Cursor;

static PyObject *str_description, *str_step, *str_empty;

static PyObject *
cursor_slow(Cursor *self, PyObject *name, PyObject *value, PyObject *description,
            PyObject *step)
{
    PyObject *args[4] = {name, value, description ? description : str_empty,
                         step ? step : Py_None};
    if (self->slow == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "this spool cursor logs nothing: no slow path");
        return NULL;
    }
    return PyObject_Vectorcall(self->slow, args, 4, NULL);
}

static PyObject *
cursor_log(Cursor *self, PyObject *name, PyObject *value, PyObject *description,
           PyObject *step)
{
    int64_t at;
    if (step == NULL || step == Py_None) {
        at = INT64_MIN; /* record.NO_STEP */
    }
    else if (PyLong_CheckExact(step)) {
        int overflow;
        long long s = PyLong_AsLongLongAndOverflow(step, &overflow);
        if (s == -1 && PyErr_Occurred()) {
            return NULL;
        }
        if (overflow || s == INT64_MIN) {
            goto slow;
        }
        at = (int64_t)s;
    }
    else {
        goto slow;
    }
    /* no Python code may run from here to the write (it could log, or end the run
       and unmap the segment): a description other than "" or None, whose truth
       would be asked of it, goes the slow way */
    if (description != NULL && description != Py_None
        && !(PyUnicode_CheckExact(description) && PyUnicode_GET_LENGTH(description) == 0)) {
        goto slow;
    }
    Py_ssize_t off = self->offset;
    if (off > self->last_point || self->view.obj == NULL
        || off + POINT_SIZE > self->view.len) {
        goto slow;
    }
    if (PyThread_get_thread_ident() != self->thread) {
        goto slow;
    }
    PyObject *heads;
    union {
        double f;
        int64_t i;
    } bits;
    if (PyFloat_CheckExact(value)) {
        heads = self->heads;
        bits.f = PyFloat_AS_DOUBLE(value);
    }
    else if (PyLong_CheckExact(value)) {
        int overflow;
        long long v = PyLong_AsLongLongAndOverflow(value, &overflow);
        if (v == -1 && PyErr_Occurred()) {
            return NULL;
        }
        if (overflow) {
            goto slow;
        }
        heads = self->int_heads;
        bits.i = (int64_t)v;
    }
    else {
        goto slow;
    }
    if (heads == NULL || !PyUnicode_CheckExact(name)) {
        goto slow;
    }
    PyObject *head = PyDict_GetItemWithError(heads, name);
    if (head == NULL) {
        if (PyErr_Occurred()) {
            return NULL;
        }
        goto slow;
    }
    if (!PyBytes_CheckExact(head) || PyBytes_GET_SIZE(head) != HEAD_SIZE) {
        goto slow;
    }
    struct timespec ts;
    if (clock_gettime(CLOCK_REALTIME, &ts) != 0) {
        goto slow;
    }
    /* as time.time(): nanoseconds since the epoch, as seconds */
    int64_t ns = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
    double now = (ns % 1000000000 == 0) ? (double)(ns / 1000000000) : (double)ns / 1e9;
    char *p = (char *)self->view.buf + off;
    memcpy(p, PyBytes_AS_STRING(head), HEAD_SIZE);
    memcpy(p + 12, &at, 8);
    memcpy(p + 20, &now, 8);
    memcpy(p + 28, &bits, 8);
    /* the commit word last: whoever sees it sees the fields before it */
    atomic_thread_fence(memory_order_release);
    uint32_t commit = COMMIT_WORD;
    memcpy(p + 36, &commit, 4);
    self->offset = off + POINT_SIZE;
    Py_RETURN_NONE;

slow:
    return cursor_slow(self, name, value, description, step);
}

static PyObject *
cursor_call(PyObject *callable, PyObject *const *args, size_t nargsf, PyObject *kwnames)
{
    Cursor *self = (Cursor *)callable;
    Py_ssize_t nargs = PyVectorcall_NARGS(nargsf);
    PyObject *description = NULL, *step = NULL;
    Py_ssize_t nkw = kwnames == NULL ? 0 : PyTuple_GET_SIZE(kwnames);

    if (nargs < 2 || nargs + nkw > 4) {
        goto bind;
    }
    if (nargs > 2) {
        description = args[2];
    }
    if (nargs > 3) {
        step = args[3];
    }
    for (Py_ssize_t i = 0; i < nkw; i++) {
        PyObject *key = PyTuple_GET_ITEM(kwnames, i);
        if (key == str_step && step == NULL) {
            step = args[nargs + i];
        }
        else if (key == str_description && description == NULL) {
            description = args[nargs + i];
        }
        else {
            goto bind; /* a name not interned, a duplicate, an unknown keyword */
        }
    }
    return cursor_log(self, args[0], args[1], description, step);

bind:
    /* an unusual call: a Python function binds the arguments (raising TypeError as
       any function would) */
    if (self->binder == NULL) {
        PyErr_SetString(PyExc_TypeError,
                        "log() takes name, value, description='' and step=None");
        return NULL;
    }
    PyObject *bound = PyObject_Vectorcall(self->binder, args, nargsf, kwnames);
    if (bound == NULL) {
        return NULL;
    }
    if (!PyTuple_CheckExact(bound) || PyTuple_GET_SIZE(bound) != 4) {
        Py_DECREF(bound);
        PyErr_SetString(PyExc_TypeError, "the binder must return (name, value, description, step)");
        return NULL;
    }
    PyObject *result = cursor_log(self, PyTuple_GET_ITEM(bound, 0), PyTuple_GET_ITEM(bound, 1),
                                  PyTuple_GET_ITEM(bound, 2), PyTuple_GET_ITEM(bound, 3));
    Py_DECREF(bound);
    return result;
}

static int
cursor_init(Cursor *self, PyObject *args, PyObject *kwds)
{
    static char *keywords[] = {NULL};
    if (!PyArg_ParseTupleAndKeywords(args, kwds, ":Cursor", keywords)) {
        return -1;
    }
    self->thread = PyThread_get_thread_ident();
    return 0;
}

static PyObject *
cursor_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
    Cursor *self = (Cursor *)type->tp_alloc(type, 0);
    if (self != NULL) {
        self->vectorcall = cursor_call;
        self->last_point = -POINT_SIZE;
    }
    return (PyObject *)self;
}

static PyObject *
cursor_map(Cursor *self, PyObject *mm)
{
    Py_buffer view;
    if (PyObject_GetBuffer(mm, &view, PyBUF_WRITABLE) < 0) {
        return NULL;
    }
    if (self->view.obj != NULL) {
        PyBuffer_Release(&self->view);
    }
    self->view = view;
    Py_RETURN_NONE;
}

static PyObject *
cursor_unmap(Cursor *self, PyObject *Py_UNUSED(ignored))
{
    if (self->view.obj != NULL) {
        PyBuffer_Release(&self->view);
    }
    Py_RETURN_NONE;
}

static PyObject *
cursor_bind(Cursor *self, PyObject *args)
{
    PyObject *heads, *int_heads, *slow, *binder;
    if (!PyArg_ParseTuple(args, "O!O!OO:bind", &PyDict_Type, &heads, &PyDict_Type,
                          &int_heads, &slow, &binder)) {
        return NULL;
    }
    Py_INCREF(heads);
    Py_XSETREF(self->heads, heads);
    Py_INCREF(int_heads);
    Py_XSETREF(self->int_heads, int_heads);
    Py_INCREF(slow);
    Py_XSETREF(self->slow, slow);
    Py_INCREF(binder);
    Py_XSETREF(self->binder, binder);
    Py_RETURN_NONE;
}

static int
cursor_traverse(Cursor *self, visitproc visit, void *arg)
{
    Py_VISIT(self->heads);
    Py_VISIT(self->int_heads);
    Py_VISIT(self->slow);
    Py_VISIT(self->binder);
    return 0;
}

static int
cursor_clear(Cursor *self)
{
    Py_CLEAR(self->heads);
    Py_CLEAR(self->int_heads);
    Py_CLEAR(self->slow);
    Py_CLEAR(self->binder);
    return 0;
}

static void
cursor_dealloc(Cursor *self)
{
    PyObject_GC_UnTrack(self);
    if (self->view.obj != NULL) {
        PyBuffer_Release(&self->view);
    }
    cursor_clear(self);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyMemberDef cursor_members[] = {
    {"offset", T_PYSSIZET, offsetof(Cursor, offset), 0, "where the next record goes"},
    {"last_point", T_PYSSIZET, offsetof(Cursor, last_point), 0,
     "points are appended while offset <= last_point"},
    {"thread", T_ULONG, offsetof(Cursor, thread), READONLY, "the writer's thread"},
    {NULL},
};

static PyMethodDef cursor_methods[] = {
    {"map", (PyCFunction)cursor_map, METH_O,
     "map(mm): write into this (writable) buffer from now on"},
    {"unmap", (PyCFunction)cursor_unmap, METH_NOARGS,
     "unmap(): let go of the buffer (before the mapping is closed)"},
    {"bind", (PyCFunction)cursor_bind, METH_VARARGS,
     "bind(heads, int_heads, slow, binder): what a call appends, where the rest goes, "
     "and what binds the arguments of an unusual call"},
    {NULL},
};

static PyTypeObject CursorType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "runtrack.spool._scalar.Cursor",
    .tp_doc = "A spool writer's position; called, the scalar logger (see logger.py).",
    .tp_basicsize = sizeof(Cursor),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_HAVE_VECTORCALL,
    .tp_new = cursor_new,
    .tp_init = (initproc)cursor_init,
    .tp_dealloc = (destructor)cursor_dealloc,
    .tp_traverse = (traverseproc)cursor_traverse,
    .tp_clear = (inquiry)cursor_clear,
    .tp_call = PyVectorcall_Call,
    .tp_vectorcall_offset = offsetof(Cursor, vectorcall),
    .tp_members = cursor_members,
    .tp_methods = cursor_methods,
};

/* -- reading: scan() ---------------------------------------------------------------- */

#define REC_NAME 1
#define REC_FLOAT 2
#define REC_INT 3
#define NAME_START 13 /* length u32, type u8, pad 3, id u32, kind u8: then the name */

typedef struct {
    Py_ssize_t n, cap;
    uint32_t *ids;
    int64_t *steps;
    double *times;
    int64_t *values;
    uint8_t *types;
} Columns;

static void
columns_free(Columns *c)
{
    PyMem_Free(c->ids);
    PyMem_Free(c->steps);
    PyMem_Free(c->times);
    PyMem_Free(c->values);
    PyMem_Free(c->types);
}

static int
columns_grow(Columns *c, Py_ssize_t most)
{
    Py_ssize_t cap = c->cap ? c->cap * 2 : 256;
    if (cap > most) {
        cap = most;
    }
    uint32_t *ids = PyMem_Realloc(c->ids, cap * sizeof(uint32_t));
    if (ids != NULL) c->ids = ids;
    int64_t *steps = PyMem_Realloc(c->steps, cap * sizeof(int64_t));
    if (steps != NULL) c->steps = steps;
    double *times = PyMem_Realloc(c->times, cap * sizeof(double));
    if (times != NULL) c->times = times;
    int64_t *values = PyMem_Realloc(c->values, cap * sizeof(int64_t));
    if (values != NULL) c->values = values;
    uint8_t *types = PyMem_Realloc(c->types, cap);
    if (types != NULL) c->types = types;
    if (ids == NULL || steps == NULL || times == NULL || values == NULL || types == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    c->cap = cap;
    return 0;
}

/* Put NAME record `nid` -> (name, kinds[kind]) into `names`, then move *id_bound past
 * every known id (SpoolReader._decode_meta). 1: done; 0: not a name this scan takes
 * (the Python path decides); -1: error. */
static int
scan_name(const unsigned char *rec, uint32_t length, PyObject *names, PyObject *kinds,
          Py_ssize_t *id_bound)
{
    uint32_t nid;
    memcpy(&nid, rec + 8, 4);
    uint8_t kind = rec[12];
    if (kind >= PyTuple_GET_SIZE(kinds)) {
        return 0;
    }
    Py_ssize_t end = length;
    while (end > NAME_START && rec[end - 1] == 0) {
        end--;
    }
    PyObject *name = PyUnicode_DecodeUTF8((const char *)rec + NAME_START, end - NAME_START,
                                          "strict");
    if (name == NULL) {
        PyErr_Clear();
        return 0;
    }
    PyObject *entry = PyTuple_Pack(2, name, PyTuple_GET_ITEM(kinds, kind));
    Py_DECREF(name);
    PyObject *key = PyLong_FromUnsignedLong(nid);
    int failed = entry == NULL || key == NULL || PyDict_SetItem(names, key, entry) < 0;
    Py_XDECREF(entry);
    Py_XDECREF(key);
    if (failed) {
        return -1;
    }
    for (;;) {
        PyObject *next = PyLong_FromSsize_t(*id_bound);
        if (next == NULL) {
            return -1;
        }
        int known = PyDict_Contains(names, next);
        Py_DECREF(next);
        if (known < 0) {
            return -1;
        }
        if (!known) {
            return 1;
        }
        (*id_bound)++;
    }
}

static PyObject *
columns_result(Columns *c)
{
    if (c->n == 0) {
        Py_RETURN_NONE;
    }
    return Py_BuildValue(
        "(y#y#y#y#y#)", (const char *)c->ids, c->n * (Py_ssize_t)sizeof(uint32_t),
        (const char *)c->steps, c->n * (Py_ssize_t)sizeof(int64_t),
        (const char *)c->times, c->n * (Py_ssize_t)sizeof(double),
        (const char *)c->values, c->n * (Py_ssize_t)sizeof(int64_t),
        (const char *)c->types, c->n);
}

static PyObject *
scan(PyObject *module, PyObject *args)
{
    PyObject *buffer, *names, *kinds;
    Py_ssize_t offset, room, id_bound;
    if (!PyArg_ParseTuple(args, "OnnnO!O!:scan", &buffer, &offset, &room, &id_bound,
                          &PyDict_Type, &names, &PyTuple_Type, &kinds)) {
        return NULL;
    }
    Py_buffer view;
    if (PyObject_GetBuffer(buffer, &view, PyBUF_SIMPLE) < 0) {
        return NULL;
    }
    const unsigned char *base = view.buf;
    Py_ssize_t size = view.len, off = offset;
    Columns c = {0};
    PyObject *result = NULL;
    if (offset < 0 || offset > size || offset % 8 != 0) {
        PyErr_Format(PyExc_ValueError, "scan: offset %zd is not a record's in %zd bytes",
                     offset, size);
        goto done;
    }
    while (off + 8 <= size) {
        const unsigned char *rec = base + off;
        /* the length word commits a variable record: read it before its payload */
        uint32_t length = __atomic_load_n((const uint32_t *)rec, __ATOMIC_ACQUIRE);
        uint8_t rtype = rec[4];
        if (rtype == REC_FLOAT || rtype == REC_INT) {
            if (c.n >= room || length != POINT_SIZE || off + POINT_SIZE > size) {
                break;
            }
            /* the commit word is stored last: read it before the fields it vouches for */
            uint32_t word = __atomic_load_n((const uint32_t *)(rec + 36), __ATOMIC_ACQUIRE);
            uint32_t nid;
            memcpy(&nid, rec + 8, 4);
            if (word != COMMIT_WORD || (Py_ssize_t)nid >= id_bound) {
                break;
            }
            if (c.n == c.cap && columns_grow(&c, room) < 0) {
                goto done;
            }
            c.ids[c.n] = nid;
            memcpy(&c.steps[c.n], rec + 12, 8);
            memcpy(&c.times[c.n], rec + 20, 8);
            memcpy(&c.values[c.n], rec + 28, 8);
            c.types[c.n] = rtype == REC_INT;
            c.n++;
            off += POINT_SIZE;
            continue;
        }
        if (rtype != REC_NAME || length < 16 || length % 8 != 0 || off + length > size) {
            break;
        }
        int took = scan_name(rec, length, names, kinds, &id_bound);
        if (took < 0) {
            goto done;
        }
        if (took == 0) {
            break;
        }
        off += length;
    }
    PyObject *columns = columns_result(&c);
    if (columns != NULL) {
        result = Py_BuildValue("(nnnN)", off, id_bound, c.n, columns);
    }
done:
    columns_free(&c);
    PyBuffer_Release(&view);
    return result;
}

static PyMethodDef scalar_functions[] = {
    {"scan", scan, METH_VARARGS,
     "scan(buffer, offset, room, id_bound, names, kinds) -> (offset, id_bound, taken, "
     "columns): the NAME records and committed FLOAT/INT points from offset on (see "
     "reader.py)"},
    {NULL},
};

static struct PyModuleDef scalar_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "runtrack.spool._scalar",
    .m_doc = "The C scalar logger of runtrack's spool and the reader's scan of its "
             "records (optional; logger.py and reader.py have their twins).",
    .m_size = -1,
    .m_methods = scalar_functions,
};

PyMODINIT_FUNC
PyInit__scalar(void)
{
    str_description = PyUnicode_InternFromString("description");
    str_step = PyUnicode_InternFromString("step");
    str_empty = PyUnicode_InternFromString("");
    if (str_description == NULL || str_step == NULL || str_empty == NULL) {
        return NULL;
    }
    if (PyType_Ready(&CursorType) < 0) {
        return NULL;
    }
    PyObject *module = PyModule_Create(&scalar_module);
    if (module == NULL) {
        return NULL;
    }
    Py_INCREF(&CursorType);
    if (PyModule_AddObject(module, "Cursor", (PyObject *)&CursorType) < 0) {
        Py_DECREF(&CursorType);
        Py_DECREF(module);
        return NULL;
    }
    return module;
}
